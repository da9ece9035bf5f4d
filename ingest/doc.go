// Package ingest decodes usage telemetry into keywatch.Events: the native
// JSON Lines format of DESIGN.md (plain or gzip, files or stdin), and later
// OTLP, LiteLLM and provider usage formats.
package ingest
