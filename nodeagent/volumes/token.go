package volumes

import (
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

const (
	// maxTokenAge is how long a token is used at most, however long it is
	// valid, so bound tokens rotate at least daily.
	maxTokenAge = 24 * time.Hour
	// defaultTokenSeconds is the API's default expirationSeconds.
	defaultTokenSeconds int64 = 3600
)

// cachedToken is a token a pod's volume holds.
type cachedToken struct {
	token   string
	expires time.Time
	ttl     time.Duration
}

// needsRefresh: after 80% of the token's lifetime, or after maxTokenAge.
func (c *cachedToken) needsRefresh(now time.Time) bool {
	issued := c.expires.Add(-c.ttl)
	return now.After(issued.Add(maxTokenAge)) || now.After(c.expires.Add(-c.ttl/5))
}

// serviceAccountToken returns a token for the pod's service account, bound
// to the pod, reusing the one the volume holds until it needs a refresh. A
// failed refresh keeps the old token while it is still valid.
func (s *setup) serviceAccountToken(tp *corev1.ServiceAccountTokenProjection) ([]byte, error) {
	sa := s.pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	seconds := defaultTokenSeconds
	if tp.ExpirationSeconds != nil {
		seconds = *tp.ExpirationSeconds
	}
	key := fmt.Sprintf("%s/%q/%d", sa, tp.Audience, seconds)
	now := s.m.clock.Now()
	cached, ok := s.state.tokens[key]
	if ok && !cached.needsRefresh(now) {
		return []byte(cached.token), nil
	}

	var audiences []string
	if tp.Audience != "" {
		audiences = []string{tp.Audience}
	}
	req := &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			Audiences:         audiences,
			ExpirationSeconds: &seconds,
			BoundObjectRef: &authenticationv1.BoundObjectReference{
				APIVersion: "v1",
				Kind:       "Pod",
				Name:       s.pod.Name,
				UID:        s.pod.UID,
			},
		},
	}
	tr, err := s.m.client.CoreV1().ServiceAccounts(s.pod.Namespace).CreateToken(s.ctx, sa, req, metav1.CreateOptions{})
	if err == nil && (tr == nil || tr.Status.Token == "") {
		err = fmt.Errorf("empty token in response")
	}
	if err != nil {
		switch {
		case !ok:
			return nil, fmt.Errorf("failed to fetch token: %w", err)
		case now.After(cached.expires):
			return nil, fmt.Errorf("token for service account %s expired and refresh failed: %w", sa, err)
		}
		return []byte(cached.token), nil
	}

	// The server may shorten (or extend) the lifetime it was asked for.
	ttl := time.Duration(seconds) * time.Second
	if tr.Spec.ExpirationSeconds != nil {
		ttl = time.Duration(*tr.Spec.ExpirationSeconds) * time.Second
	}
	expires := tr.Status.ExpirationTimestamp.Time
	if expires.IsZero() {
		expires = now.Add(ttl)
	}
	s.state.tokens[key] = &cachedToken{token: tr.Status.Token, expires: expires, ttl: ttl}
	klog.FromContext(s.ctx).V(4).Info("Fetched service account token", "pod", klog.KObj(s.pod), "serviceAccount", sa, "expires", expires)
	return []byte(tr.Status.Token), nil
}
