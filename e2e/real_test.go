package e2e

import "testing"

// newRealAsterisk would drive a real Asterisk with SIPp playing callers
// and phones. It is not written yet: say so rather than pass silently.
func newRealAsterisk(t *testing.T, url string) backend {
	t.Skipf("SWITCHBOARD_TEST_ARI_URL=%s: the SIPp backend for a real Asterisk is not written yet; only the emulator runs", url)
	return nil
}
