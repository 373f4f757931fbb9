package probe

import (
	"net"
	"syscall"
)

// probeDialer closes probe connections with a 1s linger so that frequent
// probes do not pile up sockets in TIME_WAIT on the node.
func probeDialer() *net.Dialer {
	return &net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) {
				// Best effort: without linger the probe still works.
				_ = syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 1})
			})
		},
	}
}
