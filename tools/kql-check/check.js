#!/usr/bin/env node
// Checks KQL queries with Microsoft's Kusto language service (Kusto.Language, the parser and
// binder behind Azure Data Explorer, Log Analytics and Sentinel editors).
//
// stdin:  {"tables":[{"name":"T","columns":[{"name":"c","type":"string"}]}],
//          "functions":[{"name":"F","parameters":"(a:string)","body":"{ T | where c == a }"}],
//          "queries":[{"id":"rule-x/query","text":"F('x') | take 1"}]}
// stdout: {"results":[{"id":"rule-x/query","diagnostics":[
//          {"severity":"Error","code":"KS142","message":"...","start":20,"length":4}]}]}
//
// Every query gets a result, in input order. Diagnostics are the parser's and binder's plus those
// of the built-in analyzers (KS5xx); errors and warnings are reported, suggestions and
// information are not. Offsets are UTF-16 code units into the query text.
//
// Exit status: 0 when the check ran (whatever it found), 2 when the input is malformed,
// 1 when the language service itself failed. The reason goes to stderr.

"use strict";

const fs = require("fs");

const reportedSeverities = new Set(["Error", "Warning"]);

class InputError extends Error {}

function main() {
  let input;
  try {
    input = JSON.parse(fs.readFileSync(0, "utf8"));
  } catch (e) {
    throw new InputError(`stdin is not a JSON document: ${e.message}`);
  }
  const request = readRequest(input);

  require("@kusto/language-service-next/bridge.js");
  require("@kusto/language-service-next/Kusto.Language.Bridge.js");
  const K = Kusto.Language;

  const globals = K.GlobalState.Default.WithDatabase(database(K, request));
  const results = request.queries.map((query) => ({ id: query.id, diagnostics: check(K, globals, query) }));
  process.stdout.write(JSON.stringify({ results }));
}

// Validates the whole request up front, so a bad document fails before any query is checked.
function readRequest(input) {
  if (!isObject(input)) throw new InputError("the input must be a JSON object with tables, functions and queries");
  const tables = arrayAt(input, "tables", "the input");
  const functions = arrayAt(input, "functions", "the input");
  const queries = arrayAt(input, "queries", "the input");

  const names = new Set();
  const declare = (name, where) => {
    if (names.has(name)) throw new InputError(`${where}: the name '${name}' is declared twice among tables and functions`);
    names.add(name);
  };

  tables.forEach((table, i) => {
    const where = `tables[${i}]`;
    if (!isObject(table)) throw new InputError(`${where} must be an object`);
    stringAt(table, "name", where, false);
    declare(table.name, where);
    const columns = arrayAt(table, "columns", where);
    columns.forEach((column, j) => {
      const at = `${where}.columns[${j}]`;
      if (!isObject(column)) throw new InputError(`${at} must be an object`);
      stringAt(column, "name", at, false);
      stringAt(column, "type", at, false);
    });
  });

  functions.forEach((fn, i) => {
    const where = `functions[${i}]`;
    if (!isObject(fn)) throw new InputError(`${where} must be an object`);
    stringAt(fn, "name", where, false);
    stringAt(fn, "parameters", where, false);
    stringAt(fn, "body", where, false);
    declare(fn.name, where);
  });

  const ids = new Set();
  queries.forEach((query, i) => {
    const where = `queries[${i}]`;
    if (!isObject(query)) throw new InputError(`${where} must be an object`);
    stringAt(query, "id", where, false);
    stringAt(query, "text", where, true);
    if (ids.has(query.id)) throw new InputError(`${where}: the id '${query.id}' is used twice`);
    ids.add(query.id);
  });

  return { tables, functions, queries };
}

// One database holding every table and function. Function bodies are bound lazily, when a query
// calls them, so the declaration order does not matter and functions may call one another.
function database(K, request) {
  const S = K.Symbols;
  const members = [];
  request.tables.forEach((table, i) => {
    const columns = table.columns.map((column, j) => {
      const type = S.ScalarTypes.GetSymbol(column.type);
      if (type === null || type === undefined) {
        throw new InputError(`tables[${i}].columns[${j}]: '${column.type}' (column '${column.name}' of '${table.name}') is not a KQL scalar type`);
      }
      return new S.ColumnSymbol(column.name, type, null, null, null, null);
    });
    members.push(new S.TableSymbol.$ctor4(table.name, columns));
  });
  for (const fn of request.functions) {
    members.push(new S.FunctionSymbol.$ctor16(fn.name, fn.parameters, fn.body, null));
  }
  return new S.DatabaseSymbol.$ctor1("db", members, false);
}

function check(K, globals, query) {
  let code;
  const found = [];
  try {
    code = K.KustoCode.ParseAndAnalyze(query.text, globals);
    collect(code.GetDiagnostics(), found);
    // The analyzers add warnings the binder does not give, e.g. KS508 (join without kind) and
    // KS512 (a called function's body does not bind), which is the only sign of a broken function.
    collect(new K.Editor.KustoCodeService.ctor(code).GetAnalyzerDiagnostics(true), found);
  } catch (e) {
    throw new Error(`the language service failed on query '${query.id}': ${describe(e)}`);
  }
  found.sort((a, b) => a.start - b.start || a.length - b.length || a.code.localeCompare(b.code));
  return found;
}

function collect(diagnostics, into) {
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (!reportedSeverities.has(d.Severity)) continue;
    into.push({
      severity: d.Severity,
      code: d.Code,
      message: d.Message,
      start: d.HasLocation ? d.Start : 0,
      length: d.HasLocation ? d.Length : 0,
    });
  }
}

// Errors thrown from the translated C# are System.Exception objects, with Message, not message.
function describe(e) {
  if (e && typeof e.Message === "string") return e.Message;
  if (e && typeof e.message === "string") return e.message;
  return String(e);
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function arrayAt(obj, key, where) {
  const v = obj[key];
  if (!Array.isArray(v)) throw new InputError(`${where}: '${key}' must be an array`);
  return v;
}

function stringAt(obj, key, where, emptyAllowed) {
  const v = obj[key];
  if (typeof v !== "string") throw new InputError(`${where}: '${key}' must be a string`);
  if (!emptyAllowed && v.trim() === "") throw new InputError(`${where}: '${key}' must not be empty`);
  return v;
}

try {
  main();
} catch (e) {
  if (e instanceof InputError) {
    process.stderr.write(`kql-check: malformed input: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`kql-check: ${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 1;
  }
}
