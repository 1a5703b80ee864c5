"""Trusted documents: the operations in schema/operations/ are the portal's allow-list.

Each operation, printed with the fragments it uses in one canonical form, is a trusted
document named by the SHA-256 of that text (`sha256:<hex>`). `coalition-hub operations
manifest` prints them for the portal's build, which then sends `{"documentId": "sha256:…"}`
(or Apollo's `extensions.persistedQuery.sha256Hash`) instead of the text.

A request's document is trusted when it is named by such an id, when its text hashes to
one, or when the operation it runs, printed canonically with its fragments, is one of
them (so the portal may also send a whole file of operations with `operationName`). With
`HUB_TRUSTED_DOCUMENTS_ONLY` (on in production) anonymous and partner callers may run
nothing else; the secretariat may still send ad-hoc documents.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    parse,
    print_ast,
    visit,
)
from strawberry.extensions import SchemaExtension

from backend import errors
from backend.graphql.bounded import Bounded
from backend.graphql.limits import refusal

OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"
Fragments = dict[str, FragmentDefinitionNode]
ID_PREFIX = "sha256:"


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> tuple[OperationDefinitionNode, Fragments] | None:
    """The operation a request runs (the only one, or the one named) and the document's
    fragments; None when there is no such single operation."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return operations[0], fragments


def canonical(operation: OperationDefinitionNode, fragments: Fragments) -> str:
    """The operation and the fragments it uses, printed in one canonical order."""
    used: Fragments = {}
    pending: list[Any] = [operation]
    while pending:
        for name in _spreads(pending.pop()):
            if name not in used and name in fragments:
                used[name] = fragments[name]
                pending.append(fragments[name])
    parts = [print_ast(operation)] + [print_ast(used[name]) for name in sorted(used)]
    return "\n".join(parts)


def _spreads(node: Any) -> list[str]:
    names: list[str] = []

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: Any) -> None:
            names.append(spread.name.value)

    visit(node, Spreads())
    return names


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class TrustedDocument:
    name: str
    kind: OperationType
    # The operation and its fragments, printed canonically: what the id is the hash of.
    body: str

    @property
    def sha256(self) -> str:
        return _sha256(self.body)

    @property
    def id(self) -> str:
        return ID_PREFIX + self.sha256


class TrustedDocuments:
    """The allow-list, read once from schema/operations/."""

    def __init__(self, folder: Path = OPERATIONS) -> None:
        self.documents = list(_read(folder))
        self._by_hash = {document.sha256: document for document in self.documents}
        self._bodies = {document.body for document in self.documents}
        # (text, operation name) -> whether it runs a trusted operation
        self._checked: Bounded[tuple[str, str | None], bool] = Bounded(1024)

    def queries(self) -> dict[str, str]:
        """Operation name -> canonical text, for every trusted query."""
        return {d.name: d.body for d in self.documents if d.kind is OperationType.QUERY}

    def by_id(self, document_id: str) -> TrustedDocument | None:
        """The document named `sha256:<hex>` (or the bare hex, as persisted queries send)."""
        return self._by_hash.get(document_id.removeprefix(ID_PREFIX).lower())

    def allows(self, text: str, document: DocumentNode, operation_name: str | None) -> bool:
        """Whether the operation this request runs is a trusted document."""
        key = (text, operation_name)
        known = self._checked.get(key)
        if known is None:
            known = _sha256(text) in self._by_hash or self._runs_trusted(document, operation_name)
            self._checked.put(key, known)
        return known

    def _runs_trusted(self, document: DocumentNode, operation_name: str | None) -> bool:
        selected = select_operation(document, operation_name)
        return selected is not None and self.holds(*selected)

    def holds(self, operation: OperationDefinitionNode, fragments: Fragments) -> bool:
        """Whether this operation, with the fragments it uses, is a trusted document."""
        return canonical(operation, fragments) in self._bodies

    def manifest(self) -> dict[str, Any]:
        """The manifest a client build uses (Apollo's persisted query manifest format)."""
        return {
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [
                {"id": d.sha256, "name": d.name, "type": d.kind.value, "body": d.body}
                for d in self.documents
            ],
        }


def _read(folder: Path) -> Iterator[TrustedDocument]:
    for path in sorted(folder.glob("*.graphql")):
        document = parse(path.read_text("utf-8"))
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name is not None:
                yield TrustedDocument(
                    name=definition.name.value,
                    kind=definition.operation,
                    body=canonical(definition, fragments),
                )


def not_allowed() -> GraphQLError:
    return refusal(
        errors.OPERATION_NOT_ALLOWED,
        "Only the portal's trusted documents may be run here (schema/operations/).",
    )


class TrustedDocumentsOnly(SchemaExtension):
    """Refuses, before validation, any document but a trusted one from anonymous and
    partner callers; the secretariat may send any."""

    documents: TrustedDocuments

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        actor = getattr(execution.context, "actor", None)
        document = execution.graphql_document
        if (
            (actor is None or not actor.is_secretariat)
            and document is not None
            and execution.pre_execution_errors is None
            and not self.documents.allows(execution.query or "", document, execution.operation_name)
        ):
            # Found before validation, which it skips (raising would escape websockets).
            execution.pre_execution_errors = [not_allowed()]
        yield


def trusted_documents_only(documents: TrustedDocuments) -> type[TrustedDocumentsOnly]:
    return type("TrustedDocumentsOnly", (TrustedDocumentsOnly,), {"documents": documents})
