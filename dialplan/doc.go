// Package dialplan is the heart of Switchboard: the configuration model of
// numbers, users and teams, the rules that decide how a call behaves, and the
// small interfaces it needs from the world (media server, stores, clock).
//
// It imports no media-server driver, no HTTP framework and no SQL: drivers
// and stores implement its interfaces, and cmd/switchboard wires them.
package dialplan
