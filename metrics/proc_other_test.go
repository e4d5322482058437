//go:build !linux

package metrics_test

import "syscall"

// sysProcAttr: without Pdeathsig, a test binary killed leaves its
// Prometheus running; the test's clean-up stops it otherwise.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
