package probe

import (
	"context"
	"net"
	"strconv"
	"time"
)

// runTCP succeeds when a connection to host:port opens within timeout.
func runTCP(ctx context.Context, host string, port int, timeout time.Duration) (Outcome, string, error) {
	d := probeDialer()
	d.Timeout = timeout
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return Failure, err.Error(), nil
	}
	_ = conn.Close() // The probe already succeeded.
	return Success, "", nil
}
