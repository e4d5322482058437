package pbxlocal

import "syscall"

// sysProcAttr runs the server in its own process group, so a Ctrl-C in
// the terminal reaches only us, and kills it if we die without stopping
// it. Pdeathsig fires when the OS thread that started the child exits:
// never start a server from a goroutine locked to its thread.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
