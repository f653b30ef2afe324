// Checks Kubernetes objects against their projects' own CRD schemas: Istio's WasmPlugin,
// EnvoyFilter and DestinationRule, and the Prometheus Operator's PrometheusRule. Used by
// host-sim's tests (host-sim/tests/deploy.rs); not a user tool.
//
//     node crd_check.mjs FILE.json      FILE holds a JSON array of Kubernetes objects
//
// The schemas are the CRDs of Istio 1.29.2 and of the Prometheus Operator as packaged by
// @kubernetes-models/istio and @kubernetes-models/prometheus-operator (npm), in two forms, and
// each object must pass both:
// - the package's compiled JSON-schema validators: types, enums, patterns, ranges, required fields;
// - the package's TypeScript types, through the TypeScript compiler: an object literal with a
//   field the CRD does not define is a compile error. This is how a misspelt field fails here, as
//   it fails `kubectl apply` (strict field validation) against the real CRD.
// Fields the CRD leaves open (`pluginConfig`, an EnvoyFilter patch `value`) are checked elsewhere:
// the plugin configuration by the gatewasm compiler, the patch by envoy_check.py.
// Exit 0 when clean, 1 with the reasons, 3 when the packages are not installed.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const INSTALL = "npm ci --prefix host-sim/tests/schema";
const here = path.dirname(fileURLToPath(import.meta.url));

// apiVersion/kind -> the module that models it.
const KINDS = {
  "extensions.istio.io/v1alpha1/WasmPlugin": "@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin",
  "networking.istio.io/v1alpha3/EnvoyFilter": "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter",
  "networking.istio.io/v1/DestinationRule": "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule",
  "monitoring.coreos.com/v1/PrometheusRule": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule",
};

async function load(specifier) {
  try {
    return await import(specifier);
  } catch (error) {
    console.error(`crd_check.mjs: cannot load ${specifier} (${error.code ?? error.message}); install the schema packages with: ${INSTALL}`);
    process.exit(3);
  }
}

const file = process.argv[2];
if (!file) {
  console.error("usage: node crd_check.mjs FILE.json");
  process.exit(2);
}
const documents = JSON.parse(readFileSync(file, "utf8"));
const ts = (await load("typescript")).default;

const problems = [];
const declarations = [];
const imports = [];
for (const [index, document] of documents.entries()) {
  const key = `${document.apiVersion}/${document.kind}`;
  const module = KINDS[key];
  if (!module) {
    problems.push(`document ${index}: ${key} is not an object this check knows`);
    continue;
  }
  const kind = document.kind;
  const model = (await load(module))[kind];
  try {
    new model(document).validate();
  } catch (error) {
    problems.push(`document ${index} (${kind} ${document.metadata?.namespace}/${document.metadata?.name}): ${error.message}`);
  }
  imports.push(`import type { I${kind} as T${index} } from "${module}";`);
  declarations.push(`export const document${index}: T${index} = ${JSON.stringify(document, null, 2)};`);
}

// One program for every object: the types come from the package's .d.ts files.
const source = [...imports, ...declarations].join("\n") + "\n";
const virtual = path.join(here, "__crd_check__.ts");
const options = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
};
const host = ts.createCompilerHost(options);
const getSourceFile = host.getSourceFile.bind(host);
const fileExists = host.fileExists.bind(host);
const readFile = host.readFile.bind(host);
host.getSourceFile = (name, language, ...rest) =>
  name === virtual ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
host.fileExists = (name) => name === virtual || fileExists(name);
host.readFile = (name) => (name === virtual ? source : readFile(name));
const program = ts.createProgram([virtual], options, host);
const lines = source.split("\n");
for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
  const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n  ");
  if (diagnostic.file && diagnostic.start !== undefined) {
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const owner = lines.slice(0, line + 1).findLast((l) => l.startsWith("export const document")) ?? "";
    problems.push(`${owner.split(":")[0].replace("export const ", "")}, near \`${lines[line].trim()}\`: ${text}`);
  } else {
    problems.push(text);
  }
}

for (const problem of problems) console.error(`${file}: ${problem}`);
process.exit(problems.length ? 1 : 0);
