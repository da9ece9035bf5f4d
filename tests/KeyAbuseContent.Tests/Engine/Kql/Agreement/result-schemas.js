#!/usr/bin/env node
// The result columns Microsoft's Kusto language service (Kusto.Language) infers for queries, so the embedded
// executor's column names and types can be compared with them. Uses the package tools/kql-check installs.
//
// stdin:  {"tables":[{"name":"T","columns":[{"name":"c","type":"string"}]}],
//          "functions":[{"name":"F","parameters":"(a:string)","body":"{ T }"}],
//          "queries":[{"id":"q1","text":"T | take 1"}]}
// stdout: {"results":[{"id":"q1","columns":[{"name":"c","type":"string"}],"errors":["..."]}]}
// columns is null when the query's result is not a table.

"use strict";

const fs = require("fs");
const path = require("path");

const packageDir = path.resolve(__dirname, "../../../../../tools/kql-check/node_modules/@kusto/language-service-next");
require(path.join(packageDir, "bridge.js"));
require(path.join(packageDir, "Kusto.Language.Bridge.js"));
const K = Kusto.Language;
const S = K.Symbols;

const request = JSON.parse(fs.readFileSync(0, "utf8"));
const members = [];
for (const table of request.tables) {
  const columns = table.columns.map((c) => new S.ColumnSymbol(c.name, S.ScalarTypes.GetSymbol(c.type), null, null, null, null));
  members.push(new S.TableSymbol.$ctor4(table.name, columns));
}
for (const fn of request.functions) {
  members.push(new S.FunctionSymbol.$ctor16(fn.name, fn.parameters, fn.body, null));
}
const globals = K.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.$ctor1("db", members, false));

const results = request.queries.map((query) => {
  const code = K.KustoCode.ParseAndAnalyze(query.text, globals);
  const errors = [];
  const diagnostics = code.GetDiagnostics();
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (d.Severity === "Error") errors.push(`${d.Code} at ${d.Start}: ${d.Message}`);
  }
  const type = code.ResultType;
  let columns = null;
  if (type && type.Columns) {
    columns = [];
    for (let i = 0; i < type.Columns.Count; i++) {
      const c = type.Columns.getItem(i);
      columns.push({ name: c.Name, type: c.Type.Name });
    }
  }
  return { id: query.id, columns, errors };
});
process.stdout.write(JSON.stringify({ results }));
