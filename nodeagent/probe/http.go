package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// newHTTPTransport is shared by all httpGet probes. Certificates are not
// verified because pods serve their probe endpoints with whatever
// certificate they have, and keep-alives are off so every probe sees a fresh
// connection, as with the kubelet.
func newHTTPTransport() *http.Transport {
	return &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // kubelet semantics, see above
		DisableKeepAlives:   true,
		DisableCompression:  true,
		Proxy:               nil,
		DialContext:         probeDialer().DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
	}
}

// newHTTPRequest builds the GET an httpGet probe sends.
func newHTTPRequest(ctx context.Context, action *corev1.HTTPGetAction, c *corev1.Container, podIP string) (*http.Request, error) {
	scheme := strings.ToLower(string(action.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	host, err := probeHost(action.Host, podIP)
	if err != nil {
		return nil, err
	}
	port, err := resolvePort(action.Port, c)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(action.Path)
	if err != nil {
		u = &url.URL{Path: action.Path}
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building probe request: %w", err)
	}
	headers := make(http.Header, len(action.HTTPHeaders)+2)
	for _, h := range action.HTTPHeaders {
		headers.Add(h.Name, h.Value)
	}
	if _, ok := headers["User-Agent"]; !ok {
		headers.Set("User-Agent", userAgent)
	}
	// An Accept header set to "" removes the default instead of sending it
	// empty.
	if _, ok := headers["Accept"]; !ok {
		headers.Set("Accept", "*/*")
	} else if headers.Get("Accept") == "" {
		headers.Del("Accept")
	}
	req.Header = headers
	req.Host = headers.Get("Host")
	return req, nil
}

// runHTTP sends req: 200-399 is a success, anything else a failure. A
// redirect to another host is not followed and counts as a success with a
// warning.
func runHTTP(req *http.Request, transport http.RoundTripper, timeout time.Duration) (Outcome, string, error) {
	client := &http.Client{
		Timeout:       timeout,
		Transport:     transport,
		CheckRedirect: sameHostRedirects,
	}
	resp, err := client.Do(req)
	if err != nil {
		return Failure, err.Error(), nil
	}
	defer resp.Body.Close() //nolint:errcheck // nothing to do about it
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxOutputBytes))
	if err != nil {
		return Unknown, "", fmt.Errorf("reading probe response from %s: %w", req.URL, err)
	}
	switch {
	case resp.StatusCode >= http.StatusOK && resp.StatusCode < http.StatusMultipleChoices:
		return Success, string(b), nil
	case resp.StatusCode >= http.StatusMultipleChoices && resp.StatusCode < http.StatusBadRequest:
		return warning, fmt.Sprintf("Probe terminated redirects, Response body: %v", string(b)), nil
	default:
		return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode), nil
	}
}

// sameHostRedirects follows redirects only while they stay on the host the
// probe was sent to, so a pod cannot point the node agent at other hosts.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}
