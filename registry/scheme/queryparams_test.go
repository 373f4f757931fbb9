package scheme

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestDecodeConnectOptionsFromQuery(t *testing.T) {
	tests := []struct {
		name  string
		query string
		into  any
		want  any
	}{
		{"exec", "command=sh&command=-c&command=echo+hi&container=app&stdin=true&stdout=1&tty=false",
			&corev1.PodExecOptions{}, &corev1.PodExecOptions{Command: []string{"sh", "-c", "echo hi"}, Container: "app", Stdin: true, Stdout: true}},
		{"log", "follow=true&tailLines=10&sinceSeconds=5&previous=false&timestamps=true",
			&corev1.PodLogOptions{}, &corev1.PodLogOptions{Follow: true, TailLines: ptr.To[int64](10), SinceSeconds: ptr.To[int64](5), Timestamps: true}},
		{"portforward", "ports=80&ports=8080", &corev1.PodPortForwardOptions{}, &corev1.PodPortForwardOptions{Ports: []int32{80, 8080}}},
		{"proxy path", "path=/healthz", &corev1.PodProxyOptions{}, &corev1.PodProxyOptions{Path: "/healthz"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			if err := Scheme.Convert(&v, tc.into, nil); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, tc.into); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	var bad corev1.PodLogOptions
	v, _ := url.ParseQuery("tailLines=many")
	if err := Scheme.Convert(&v, &bad, nil); err == nil {
		t.Error("non-numeric tailLines decoded without error")
	}
}
