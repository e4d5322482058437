package e2e

import (
	"os/exec"
	"syscall"
)

// tied makes a party or a switchboard the test starts die with the test:
// a test killed (a timeout, ^C) leaves no SIPp phone answering for two
// hours nor a switchboard serving. Pdeathsig fires when the OS thread
// that started the child exits; the tests start them from ordinary
// goroutines, whose threads live as long as the process.
func tied(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}
