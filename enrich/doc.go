// Package enrich adds what an event does not carry itself: the inventory
// record of its key (service, env, owner), and the country and autonomous
// system of its client address from MaxMind-format databases.
package enrich
