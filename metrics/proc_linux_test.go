package metrics_test

import "syscall"

// sysProcAttr kills the test's Prometheus if the test binary dies
// without stopping it. Pdeathsig fires when the OS thread that started
// the child exits: never start it from a goroutine locked to its thread.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
