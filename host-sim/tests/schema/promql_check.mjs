// Parses PromQL expressions with Prometheus' own grammar (@prometheus-io/lezer-promql, the parser
// of Prometheus' web UI). Used by host-sim's tests (host-sim/tests/deploy.rs) on the alerts and
// dashboard in examples/observability; not a user tool.
//
//     node promql_check.mjs FILE.json      FILE holds a JSON array of expressions
//
// Exit 0 when every expression parses, 1 with each one that does not and where, 3 when the
// package is not installed.

import { readFileSync } from "node:fs";

const INSTALL = "npm ci --prefix host-sim/tests/schema";

let parser;
try {
  ({ parser } = await import("@prometheus-io/lezer-promql"));
} catch (error) {
  console.error(`promql_check.mjs: cannot load @prometheus-io/lezer-promql (${error.code ?? error.message}); install it with: ${INSTALL}`);
  process.exit(3);
}

const file = process.argv[2];
if (!file) {
  console.error("usage: node promql_check.mjs FILE.json");
  process.exit(2);
}
const problems = [];
for (const expr of JSON.parse(readFileSync(file, "utf8"))) {
  const errors = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
    },
  });
  for (const at of errors) {
    problems.push(`syntax error at ${at}, near \`${expr.slice(Math.max(0, at - 20), at + 20)}\` in:\n  ${expr}`);
  }
}
for (const problem of problems) console.error(`${file}: ${problem}`);
process.exit(problems.length ? 1 : 0);
