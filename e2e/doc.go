// Package e2e holds the end-to-end suite: the built switchboard binary on
// a real PostgreSQL, driving a media-server emulator over real sockets,
// configured and checked through its HTTP API only. The same scenarios run
// on every backend (the ARI emulator, the ESL emulator, and real servers
// when the environment names them).
package e2e
