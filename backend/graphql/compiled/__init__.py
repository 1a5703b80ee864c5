"""Compiled reads: the portal's trusted queries (schema/operations/) answered from one SQL
statement each, which builds the response JSON in the database.

- `shapes`: how each GraphQL type is stored (table, columns, relations);
- `json_sql`: the JSON and the scalars' text in each database's SQL;
- `compiler`: a selection set -> the statement's JSON expression;
- `roots`: the Query fields an operation may start from, and connections;
- `plans`: trusted documents, their statements per kind of reader, running one;
- `reads`: the schema extension that sets the result, and the result cache's use.

The resolvers stay the reference: tests/graphql/test_compiled_reads.py runs every trusted
query through both and compares the answers byte for byte.
"""
