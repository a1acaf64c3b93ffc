package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// records is how many records each produce scenario writes.
const records = 2000

var codecs = map[string]kgo.CompressionCodec{
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

func value(codec string, i int) string {
	return fmt.Sprintf("%s-value-%d-%s", codec, i, strings.Repeat("abcdefgh", i%13))
}

// runProduce: a producer with kgo's defaults (idempotent, acks=all) and one codec writes
// records keyed records with a header into topic go-<codec> (created beforehand with 3
// partitions); a direct consumer reads every partition back from the start. Emits the acks
// ([partition, offset] per record, in send order) and what was read
// ([partition, offset, key, value, header n]).
func runProduce(bootstrap, codec string) {
	scenario := "produce:" + codec
	topic := "go-" + codec
	step(scenario, "produce", func() (map[string]any, error) { return produce(bootstrap, codec, topic) })
	step(scenario, "consume", func() (map[string]any, error) { return readBack(bootstrap, codec, topic) })
}

func produce(bootstrap, codec, topic string) (map[string]any, error) {
	compression, known := codecs[codec]
	if !known {
		return nil, fmt.Errorf("unknown codec %s", codec)
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ClientID("go-producer-"+codec),
		kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(compression),
		kgo.ProducerLinger(5*time.Millisecond), kgo.RecordDeliveryTimeout(30*time.Second))
	if err != nil {
		return nil, err
	}
	defer client.Close()
	batch := make([]*kgo.Record, records)
	for i := range batch {
		batch[i] = &kgo.Record{Key: []byte("key-" + strconv.Itoa(i%17)), Value: []byte(value(codec, i)),
			Headers: []kgo.RecordHeader{{Key: "n", Value: []byte(strconv.Itoa(i))}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	results := client.ProduceSync(ctx, batch...)
	if err := results.FirstErr(); err != nil {
		return nil, err
	}
	// ProduceSync lists results in completion order; acks go back into send order.
	index := make(map[*kgo.Record]int, len(batch))
	for i, record := range batch {
		index[record] = i
	}
	acks := make([][2]int64, len(results))
	for _, result := range results {
		acks[index[result.Record]] = [2]int64{int64(result.Record.Partition), result.Record.Offset}
	}
	return map[string]any{"acks": acks}, nil
}

func readBack(bootstrap, codec, topic string) (map[string]any, error) {
	start := map[int32]kgo.Offset{}
	for partition := int32(0); partition < 3; partition++ {
		start[partition] = kgo.NewOffset().AtStart()
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ClientID("go-reader-"+codec),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}))
	if err != nil {
		return nil, err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	read := [][]any{}
	for len(read) < records {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read %d of %d records: %w", len(read), records, ctx.Err())
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			return nil, errs[0].Err
		}
		fetches.EachRecord(func(r *kgo.Record) {
			header := ""
			for _, h := range r.Headers {
				if h.Key == "n" {
					header = string(h.Value)
				}
			}
			read = append(read, []any{r.Partition, r.Offset, string(r.Key), string(r.Value), header})
		})
	}
	return map[string]any{"records": read}, nil
}
