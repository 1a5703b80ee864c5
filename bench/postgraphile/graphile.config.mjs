// PostGraphile v5 over the benchmark database, started by bench/portal_vs_postgraphile.py:
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> PORT=<port> node postgraphile -C graphile.config.mjs
// Amber preset as it comes (no simplify-inflection): names like coalitionBySlug,
// membershipsByCoalitionId. Loopback only; no GraphiQL, no watch mode, no explain.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const connectionString = process.env.DATABASE_URL;
if (!connectionString) throw new Error("DATABASE_URL is not set");

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString, schemas: ["public"] })],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 5678),
    graphiql: false,
    watch: false,
    websockets: false,
  },
  grafast: { explain: false },
};

export default preset;
