package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	groupTopic   = "go-group"
	groupID      = "go-group"
	phaseRecords = 1500
	phaseTimeout = 45 * time.Second
)

// groupRun is the state the three members share with the scenario's driver.
type groupRun struct {
	bootstrap   string
	mu          sync.Mutex
	consumed    [][3]int64 // [partition, offset, member]
	count       atomic.Int64
	assignments map[int]map[int32]bool
	errs        map[int]string
	stop        [4]atomic.Bool
}

// runGroup: a consumer group of three franz-go members on topic go-group (created beforehand
// with 6 partitions), polling with BlockRebalanceOnPoll and committing what each poll returned
// before allowing a rebalance, so no record reaches two members. Phase 1: phaseRecords records
// are consumed while all three are members (2 partitions each). Then member 3 leaves (Close
// sends LeaveGroup). Phase 2: as many records again are consumed by the other two (3 partitions
// each). Emits the assignments of each phase and every record consumed.
func runGroup(bootstrap string) {
	run := &groupRun{bootstrap: bootstrap, assignments: map[int]map[int32]bool{}, errs: map[int]string{}}
	var members [4]sync.WaitGroup
	for member := 1; member <= 3; member++ {
		members[member].Add(1)
		go func(member int) {
			defer members[member].Done()
			run.consumeAs(member)
		}(member)
	}
	step("group", "three-members", func() (map[string]any, error) {
		if err := produceGroupRecords(bootstrap, 0); err != nil {
			return nil, err
		}
		if err := run.await(phaseRecords, []int{1, 2, 3}, 2); err != nil {
			return nil, err
		}
		return map[string]any{"assignments": run.snapshot()}, nil
	})
	step("group", "member-leaves", func() (map[string]any, error) {
		run.stop[3].Store(true)
		members[3].Wait()
		run.mu.Lock()
		delete(run.assignments, 3)
		run.mu.Unlock()
		if err := produceGroupRecords(bootstrap, phaseRecords); err != nil {
			return nil, err
		}
		if err := run.await(2*phaseRecords, []int{1, 2}, 3); err != nil {
			return nil, err
		}
		return map[string]any{"assignments": run.snapshot()}, nil
	})
	run.stop[1].Store(true)
	run.stop[2].Store(true)
	members[1].Wait()
	members[2].Wait()
	step("group", "consumed", func() (map[string]any, error) {
		run.mu.Lock()
		defer run.mu.Unlock()
		return map[string]any{"records": run.consumed, "memberErrors": run.errs}, nil
	})
}

func produceGroupRecords(bootstrap string, from int) error {
	client, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ClientID("go-group-producer"),
		kgo.DefaultProduceTopic(groupTopic))
	if err != nil {
		return err
	}
	defer client.Close()
	batch := make([]*kgo.Record, 0, phaseRecords)
	for i := from; i < from+phaseRecords; i++ {
		batch = append(batch, &kgo.Record{Key: []byte("key-" + strconv.Itoa(i)),
			Value: []byte("group-value-" + strconv.Itoa(i))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return client.ProduceSync(ctx, batch...).FirstErr()
}

// snapshot is each member's assigned partitions, sorted, keyed by member number.
func (run *groupRun) snapshot() map[string][]int32 {
	run.mu.Lock()
	defer run.mu.Unlock()
	out := map[string][]int32{}
	for member, partitions := range run.assignments {
		list := []int32{}
		for partition := range partitions {
			list = append(list, partition)
		}
		sort.Slice(list, func(i, j int) bool { return list[i] < list[j] })
		out[strconv.Itoa(member)] = list
	}
	return out
}

// await waits until total records were consumed and each member holds `each` partitions.
func (run *groupRun) await(total int64, members []int, each int) error {
	deadline := time.Now().Add(phaseTimeout)
	for {
		done := run.count.Load() >= total
		run.mu.Lock()
		for _, member := range members {
			done = done && len(run.assignments[member]) == each
		}
		run.mu.Unlock()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("consumed %d of %d, assignments %v, member errors %v",
				run.count.Load(), total, run.snapshot(), run.errs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (run *groupRun) track(member int, partitions map[string][]int32, assigned bool) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.assignments[member] == nil {
		run.assignments[member] = map[int32]bool{}
	}
	for _, partition := range partitions[groupTopic] {
		if assigned {
			run.assignments[member][partition] = true
		} else {
			delete(run.assignments[member], partition)
		}
	}
}

func (run *groupRun) consumeAs(member int) {
	onAssigned := func(_ context.Context, _ *kgo.Client, p map[string][]int32) { run.track(member, p, true) }
	onRevoked := func(_ context.Context, _ *kgo.Client, p map[string][]int32) { run.track(member, p, false) }
	client, err := kgo.NewClient(kgo.SeedBrokers(run.bootstrap),
		kgo.ClientID("go-consumer-"+strconv.Itoa(member)), kgo.ConsumerGroup(groupID),
		kgo.ConsumeTopics(groupTopic), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(onAssigned), kgo.OnPartitionsRevoked(onRevoked),
		kgo.OnPartitionsLost(onRevoked))
	if err != nil {
		run.fail(member, err)
		return
	}
	defer client.Close()
	for !run.stop[member].Load() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fetches := client.PollRecords(ctx, 200)
		cancel()
		for _, fetchErr := range fetches.Errors() {
			if !errors.Is(fetchErr.Err, context.DeadlineExceeded) {
				run.fail(member, fetchErr.Err)
			}
		}
		polled := fetches.Records()
		if len(polled) > 0 {
			commitCtx, commitCancel := context.WithTimeout(context.Background(), 15*time.Second)
			err := client.CommitRecords(commitCtx, polled...)
			commitCancel()
			if err != nil {
				run.fail(member, err)
			}
			run.mu.Lock()
			for _, r := range polled {
				run.consumed = append(run.consumed, [3]int64{int64(r.Partition), r.Offset, int64(member)})
			}
			run.mu.Unlock()
			run.count.Add(int64(len(polled)))
		}
		client.AllowRebalance()
	}
}

func (run *groupRun) fail(member int, err error) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.errs[member] = err.Error()
}
