// Package profile keeps the bounded behavioural state of one key or one
// service: seasonal request and token baselines (hour of week and hour of
// day, 30-day horizon), the countries, networks, models and operations it
// uses, and short sliding windows for rates, address fan-out and auth
// failures.
//
// Profiles are driven by event time only; nothing here reads the clock. A
// profile is owned by one goroutine (one engine shard) and is not safe for
// concurrent use. Each Key profile stays under 4 KB however long it runs.
package profile
