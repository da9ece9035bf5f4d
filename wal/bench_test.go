package wal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keywatch/keywatch/wal"
)

// BenchmarkAppend measures durable appends of 64 KiB records, about a batch
// of 1000 events, with real fsyncs on the disk holding the temp directory.
// It reports appends/s and fsyncs/append besides MB/s.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			var syncs atomic.Int64
			opt := wal.WithSyncHook(wal.Options{Dir: b.TempDir()}, func(f *os.File) error {
				syncs.Add(1)
				return f.Sync()
			})
			l, err := wal.Open(opt)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			rec := make([]byte, 64<<10)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(rec)))
			b.ResetTimer()
			start := time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						for {
							_, err := l.Append(ctx, rec)
							if errors.Is(err, wal.ErrFull) {
								// Stand in for a consumer that keeps up.
								if err := l.Release(l.End()); err != nil {
									b.Error(err)
									return
								}
								continue
							}
							if err != nil {
								b.Error(err)
								return
							}
							break
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
			b.ReportMetric(float64(syncs.Load())/float64(b.N), "fsyncs/append")
		})
	}
}
