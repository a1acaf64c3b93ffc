package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// latencyOptions are the latency scenario's flags (bench/lib/franz-go-run.ts passes them).
type latencyOptions struct {
	topic        string
	partitions   int
	rate         float64
	messageSize  int
	duration     time.Duration
	warmup       time.Duration
	acks         int
	linger       time.Duration
	batchBytes   int
	inflight     int
	maxBuffered  int
	drain        time.Duration
	debugURL     string
	percentiles  []float64
	runTimeLimit time.Duration
}

func parseLatencyOptions(args []string) (*latencyOptions, error) {
	flags := flag.NewFlagSet("latency", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	o := &latencyOptions{}
	flags.StringVar(&o.topic, "topic", "", "topic to produce to (created beforehand)")
	flags.IntVar(&o.partitions, "partitions", 4, "partitions of the topic")
	flags.Float64Var(&o.rate, "rate", 10000, "offered records per second")
	flags.IntVar(&o.messageSize, "message-size", 100, "record value bytes (at least 8: the stamp)")
	duration := flags.Float64("duration", 5, "measured seconds")
	warmup := flags.Float64("warmup", 2, "seconds at the rate before measuring")
	flags.IntVar(&o.acks, "acks", -1, "required acks: -1 (all), 1 (leader) or 0 (none)")
	linger := flags.Float64("linger-ms", 5, "kgo.ProducerLinger, ms")
	flags.IntVar(&o.batchBytes, "batch-bytes", 16384, "kgo.ProducerBatchMaxBytes")
	flags.IntVar(&o.inflight, "inflight", 512, "kgo.MaxProduceRequestsInflightPerBroker")
	flags.IntVar(&o.maxBuffered, "max-buffered", 100000, "kgo.MaxBufferedRecords")
	drain := flags.Float64("drain-ms", 2000, "how long the consumer may take after the last send")
	flags.StringVar(&o.debugURL, "debug-url", "", "the broker's /debug/latency (reset and read)")
	percentiles := flags.String("percentiles", "50,99,99.9,100", "spectrum percentiles, comma-separated")
	if err := flags.Parse(args); err != nil {
		return nil, err
	}
	if o.topic == "" || o.partitions < 1 || o.rate <= 0 || o.messageSize < 8 {
		return nil, errors.New("latency needs -topic, -partitions >= 1, -rate > 0 and -message-size >= 8")
	}
	if o.acks != -1 && o.acks != 0 && o.acks != 1 {
		return nil, fmt.Errorf("acks %d: only -1, 0 and 1", o.acks)
	}
	for _, text := range strings.Split(*percentiles, ",") {
		value, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("percentile %q: %w", text, err)
		}
		o.percentiles = append(o.percentiles, value)
	}
	seconds := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	o.duration, o.warmup, o.linger = seconds(*duration), seconds(*warmup), seconds(*linger/1000)
	o.drain = seconds(*drain / 1000)
	// The whole run ends by this deadline even if the broker stops answering.
	o.runTimeLimit = o.warmup + o.duration + o.drain + 30*time.Second
	return o, nil
}

// stamps are nanoseconds since the run's origin (Go's monotonic clock), carried in the first 8
// bytes of each record's value: record timestamps are whole milliseconds.
type stamps struct{ origin time.Time }

func (s stamps) now() int64 { return int64(time.Since(s.origin)) }

func (s stamps) read(value []byte) int64 { return int64(binary.BigEndian.Uint64(value)) }

// latencyTally counts a run's records and keeps every measured latency (nanoseconds).
type latencyTally struct {
	clock        stamps
	measuredFrom int64
	mu           sync.Mutex
	offered      int64
	skipped      int64
	failed       int64
	acknowledged int64
	received     int64
	produce      []int64
	endToEnd     []int64
	requests     []int64
	batches      int64
	batchRecords int64
	firstError   string
}

// OnProduceBatchWritten (a kgo hook) counts batches acknowledged in the measured window, for
// the mean records per batch.
func (t *latencyTally) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32,
	metrics kgo.ProduceBatchMetrics) {
	if t.clock.now() < t.measuredFrom {
		return
	}
	t.mu.Lock()
	t.batches++
	t.batchRecords += int64(metrics.NumRecords)
	t.mu.Unlock()
}

// OnBrokerE2E (a kgo hook) keeps each produce request's time from its write to its response
// read in the measured window, excluding the time a record waited in kgo's batch: the Node
// generator's produce latency is much like this (from its send to the answer, per request).
func (t *latencyTally) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if key != produceKey || e2e.Err() != nil || t.clock.now() < t.measuredFrom {
		return
	}
	t.mu.Lock()
	t.requests = append(t.requests, int64(e2e.DurationE2E()))
	t.mu.Unlock()
}

// produceKey is the Produce request's API key.
const produceKey = 0

// runLatency: an open-loop producer at a fixed rate and a consumer in the same process, both
// kgo clients (no event loop shared with anything), for the broker latency benchmark
// (`npm run bench -- latency --client franz-go`). Records go round-robin over the partitions
// (kgo.ManualPartitioner, one record at a time), each stamped as it is handed to TryProduce.
// kgo batches them per partition (linger, batch bytes) and sends one produce request per broker
// for all ready partitions. Idempotence is off and many requests may be in flight, as with the
// Node generator's produce (which sends no producer id). Records that find kgo's buffer full
// (MaxBufferedRecords) are skipped and counted, so a slow broker cannot slow the offered load.
// Produce latency: TryProduce to its promise; end to end: TryProduce to the poll that returns
// it. Both over the records stamped after the warm-up only, one sample per record.
func runLatency(bootstrap string, args []string) {
	step("latency", "run", func() (map[string]any, error) {
		options, err := parseLatencyOptions(args)
		if err != nil {
			return nil, err
		}
		return measureLatency(bootstrap, options)
	})
}

func measureLatency(bootstrap string, o *latencyOptions) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.runTimeLimit)
	defer cancel()
	// Fewer collections while measuring: a record allocates its value and kgo's bookkeeping,
	// and the live heap is small, so Go's default (GOGC=100) collects about 20 times a second
	// at 150 k records/s. The samples are sized for the window up front for the same reason.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	clock := stamps{origin: time.Now()}
	measuredFrom := int64(o.warmup)
	expectedSamples := int(min(o.rate*o.duration.Seconds()*1.05, 1e8))
	tally := &latencyTally{clock: clock, measuredFrom: measuredFrom,
		produce: make([]int64, 0, expectedSamples), endToEnd: make([]int64, 0, expectedSamples)}
	acks := map[int]kgo.Acks{-1: kgo.AllISRAcks(), 0: kgo.NoAck(), 1: kgo.LeaderAck()}[o.acks]
	producer, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ClientID("go-latency-producer"),
		kgo.DefaultProduceTopic(o.topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(o.linger), kgo.ProducerBatchMaxBytes(int32(o.batchBytes)),
		kgo.RequiredAcks(acks), kgo.DisableIdempotentWrite(),
		kgo.MaxProduceRequestsInflightPerBroker(o.inflight), kgo.MaxBufferedRecords(o.maxBuffered),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordDeliveryTimeout(30*time.Second), kgo.WithHooks(tally))
	if err != nil {
		return nil, err
	}
	defer producer.Close()
	// The consumer starts at the end offsets listed before the first send, so no record is
	// missed by a consumer that would otherwise resolve "the end" after sends began.
	ends, err := kadm.NewClient(producer).ListEndOffsets(ctx, o.topic)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	start := map[int32]kgo.Offset{}
	ends.Each(func(end kadm.ListedOffset) { start[end.Partition] = kgo.NewOffset().At(end.Offset) })
	if len(start) != o.partitions {
		return nil, fmt.Errorf("topic %s has %d partitions, not %d", o.topic, len(start), o.partitions)
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ClientID("go-latency-consumer"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.topic: start}),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer consumer.Close()

	stopReading := make(chan struct{})
	reading := make(chan error, 1)
	go func() { reading <- consume(ctx, consumer, clock, measuredFrom, tally, stopReading) }()

	// Paced loop: every wake-up sends all records due by now (so the sleep's granularity does
	// not lower the offered rate), then sleeps until the next one is due, at least 1 ms.
	interval := float64(time.Second) / o.rate
	filler := make([]byte, o.messageSize-8)
	for i := range filler {
		filler[i] = byte(i % 251)
	}
	deadline := o.warmup + o.duration
	var due int64
	var maxLateness time.Duration
	windowStarted := false
	var gcBefore debug.GCStats
	var cpuBefore float64
	var brokerReport json.RawMessage
	for {
		now := time.Duration(clock.now())
		if now >= deadline || ctx.Err() != nil {
			break
		}
		measuring := now >= o.warmup
		if measuring && !windowStarted {
			windowStarted = true
			debug.ReadGCStats(&gcBefore)
			cpuBefore = cpuSeconds()
			if o.debugURL != "" {
				// Off the loop, as the Node generator's (a send would otherwise wait for it).
				go brokerDebugReport(ctx, o.debugURL, true)
			}
		}
		dueNow := int64(float64(now) / interval)
		if dueNow > due && measuring {
			maxLateness = max(maxLateness, now-time.Duration(float64(due)*interval))
		}
		for ; due < dueNow; due++ {
			value := make([]byte, o.messageSize)
			copy(value[8:], filler)
			stamp := clock.now()
			binary.BigEndian.PutUint64(value, uint64(stamp))
			inWindow := stamp >= measuredFrom
			if inWindow {
				tally.mu.Lock()
				tally.offered++
				tally.mu.Unlock()
			}
			record := &kgo.Record{Value: value, Partition: int32(due % int64(o.partitions))}
			producer.TryProduce(ctx, record, func(_ *kgo.Record, err error) {
				latency := clock.now() - stamp
				if !inWindow {
					return
				}
				tally.mu.Lock()
				defer tally.mu.Unlock()
				switch {
				case errors.Is(err, kgo.ErrMaxBuffered):
					tally.skipped++
				case err != nil:
					tally.failed++
					if tally.firstError == "" {
						tally.firstError = err.Error()
					}
				default:
					tally.acknowledged++
					tally.produce = append(tally.produce, latency)
				}
			})
		}
		next := time.Duration(float64(due+1) * interval)
		time.Sleep(max(next-time.Duration(clock.now()), time.Millisecond))
	}
	measuredSeconds := (time.Duration(clock.now()) - o.warmup).Seconds()
	var gcAfter debug.GCStats
	debug.ReadGCStats(&gcAfter)
	cpuUsed := cpuSeconds() - cpuBefore
	if o.debugURL != "" && windowStarted {
		brokerReport = brokerDebugReport(ctx, o.debugURL, false)
	}
	if err := producer.Flush(ctx); err != nil {
		return nil, fmt.Errorf("flush: %w", err)
	}
	drainUntil := time.Now().Add(o.drain)
	for time.Now().Before(drainUntil) {
		tally.mu.Lock()
		done := tally.received >= tally.acknowledged
		tally.mu.Unlock()
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stopReading)
	if err := <-reading; err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("the run did not end within %s: %w", o.runTimeLimit, ctx.Err())
	}

	tally.mu.Lock()
	defer tally.mu.Unlock()
	for _, samples := range [][]int64{tally.produce, tally.endToEnd, tally.requests} {
		sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	}
	sent := tally.offered - tally.skipped
	expected := 0.95 * o.rate * measuredSeconds
	recordsPerBatch := 0.0
	if tally.batches > 0 {
		recordsPerBatch = float64(tally.batchRecords) / float64(tally.batches)
	}
	result := map[string]any{
		"client":            "franz-go",
		"partitioner":       "round-robin per record (kgo.ManualPartitioner)",
		"targetRate":        o.rate,
		"achievedRate":      float64(tally.acknowledged) / measuredSeconds,
		"recordsPerBatch":   math.Round(recordsPerBatch*10) / 10,
		"sent":              sent,
		"acknowledged":      tally.acknowledged,
		"failed":            tally.failed,
		"skipped":           tally.skipped,
		"received":          tally.received,
		"saturated":         tally.skipped > 0 || tally.failed > 0 || float64(tally.acknowledged) < expected || float64(tally.offered) < expected,
		"maxScheduleLagMs":  toMs(int64(maxLateness)),
		"produceLatencyMs":  percentiles(tally.produce),
		"endToEndLatencyMs": percentiles(tally.endToEnd),
		"produceRequestMs":  percentiles(tally.requests),
		"spectrum": map[string]any{
			"produce":  spectrum(tally.produce, o.percentiles),
			"endToEnd": spectrum(tally.endToEnd, o.percentiles),
		},
		"goGc":                gcPauses(gcBefore, gcAfter),
		"generatorCpuSeconds": math.Round(cpuUsed*100) / 100,
	}
	if tally.firstError != "" {
		result["firstError"] = tally.firstError
	}
	if brokerReport != nil {
		result["broker"] = brokerReport
	}
	return result, nil
}

// consume polls until stopReading closes, counting each record stamped in the measured window
// and its latency at the poll that returned it.
func consume(ctx context.Context, consumer *kgo.Client, clock stamps, measuredFrom int64,
	tally *latencyTally, stopReading <-chan struct{}) error {
	pollCtx, cancelPoll := context.WithCancel(ctx)
	defer cancelPoll()
	go func() {
		select {
		case <-stopReading:
		case <-ctx.Done():
		}
		cancelPoll()
	}()
	for {
		fetches := consumer.PollFetches(pollCtx)
		arrived := clock.now()
		if pollCtx.Err() != nil {
			return nil
		}
		for _, fetchErr := range fetches.Errors() {
			if !errors.Is(fetchErr.Err, context.Canceled) {
				return fmt.Errorf("fetch %s/%d: %w", fetchErr.Topic, fetchErr.Partition, fetchErr.Err)
			}
		}
		tally.mu.Lock()
		fetches.EachRecord(func(r *kgo.Record) {
			if len(r.Value) < 8 {
				return
			}
			if stamp := clock.read(r.Value); stamp >= measuredFrom {
				tally.received++
				tally.endToEnd = append(tally.endToEnd, arrived-stamp)
			}
		})
		tally.mu.Unlock()
	}
}

// brokerDebugReport starts a new window of the broker's /debug/latency (DELETE, which computes
// no report while the run measures) or reads its report, as the Node generator does at its
// window's start and end; nil when the broker does not serve it or for a reset.
func brokerDebugReport(ctx context.Context, url string, reset bool) json.RawMessage {
	method := http.MethodGet
	if reset {
		method = http.MethodDelete
	}
	requestCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	request, err := http.NewRequestWithContext(requestCtx, method, url, nil)
	if err != nil {
		return nil
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return nil
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil || response.StatusCode != http.StatusOK || !json.Valid(body) {
		return nil
	}
	return body
}

func toMs(nanoseconds int64) float64 {
	return math.Round(float64(nanoseconds)/1e3) / 1e3
}

// sortedAt is the value at percentile p of sorted samples (nearest rank).
func sortedAt(sorted []int64, p float64) int64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank-1, 0), len(sorted)-1)]
}

// percentiles of sorted samples: p50, p99, p99.9 and max in ms (zeros when there are none, as
// the Node generator's empty histogram gives).
func percentiles(sorted []int64) map[string]float64 {
	if len(sorted) == 0 {
		return map[string]float64{"p50": 0, "p99": 0, "p999": 0, "max": 0}
	}
	samples := sorted
	return map[string]float64{
		"p50": toMs(sortedAt(samples, 50)), "p99": toMs(sortedAt(samples, 99)),
		"p999": toMs(sortedAt(samples, 99.9)), "max": toMs(samples[len(samples)-1]),
	}
}

// spectrum is [percentile, ms] pairs of sorted samples, for the latency chart.
func spectrum(sorted []int64, at []float64) [][2]float64 {
	points := [][2]float64{}
	if len(sorted) == 0 {
		return points
	}
	for _, p := range at {
		points = append(points, [2]float64{p, toMs(sortedAt(sorted, p))})
	}
	return points
}

// gcPauses: the Go runtime's stop-the-world pauses during the measured window.
func gcPauses(before, after debug.GCStats) map[string]float64 {
	count := after.NumGC - before.NumGC
	longest := time.Duration(0)
	for i := 0; i < int(count) && i < len(after.Pause); i++ {
		longest = max(longest, after.Pause[i])
	}
	return map[string]float64{"count": float64(count),
		"totalMs": toMs(int64(after.PauseTotal - before.PauseTotal)), "maxMs": toMs(int64(longest))}
}

// cpuSeconds is the CPU time (user + system) this process has used, producer and consumer.
func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}
