//go:build !race

package esltest

const raceEnabled = false
