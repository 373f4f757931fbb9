package workloop

import (
	"context"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2/ktesting"
)

func TestServe(t *testing.T) {
	tests := []struct {
		name    string
		synced  bool
		runs    int
		wantRan int32
	}{
		{name: "runs every function once the informers have synced", synced: true, runs: 3, wantRan: 3},
		{name: "runs nothing when the informers never sync", synced: false, runs: 3, wantRan: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			ctx, cancel := context.WithCancel(ctx)
			stop := make(chan struct{})
			var ran, returned atomic.Int32
			started := make(chan struct{}, tt.runs)
			run := make([]func(), tt.runs)
			for i := range run {
				run[i] = func() {
					ran.Add(1)
					started <- struct{}{}
					<-stop // until shutDown
					returned.Add(1)
				}
			}
			var shutDowns int
			synced := func() bool { return tt.synced }
			done := make(chan struct{})
			go func() {
				defer close(done)
				Serve(ctx, "test", []cache.InformerSynced{synced}, func() { shutDowns++; close(stop) }, run...)
			}()
			for range tt.wantRan {
				<-started
			}
			cancel()
			<-done
			if got := ran.Load(); got != tt.wantRan {
				t.Errorf("ran %d functions, want %d", got, tt.wantRan)
			}
			if got := returned.Load(); got != tt.wantRan {
				t.Errorf("Serve returned before %d of %d functions did", tt.wantRan-got, tt.wantRan)
			}
			if shutDowns != 1 {
				t.Errorf("shutDown called %d times, want once", shutDowns)
			}
		})
	}
}
