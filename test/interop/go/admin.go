package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	adminTopicA = "go-admin-a"
	adminTopicB = "go-admin-b"
)

// topicID is Kafka's printed form of a topic id (URL-safe base64 without padding).
func topicID(id kadm.TopicID) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// runAdmin drives kadm: broker metadata; create, list, describe and delete topics; describe
// and alter topic configs; list offsets; list and describe groups and fetch their offsets
// (the group of runGroup, run before). Each call is its own step.
func runAdmin(bootstrap string) {
	client, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ClientID("go-admin"))
	if err != nil {
		emit(map[string]any{"scenario": "admin", "step": "client", "ok": false, "error": err.Error()})
		return
	}
	defer client.Close()
	admin := kadm.NewClient(client)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	step("admin", "brokerMetadata", func() (map[string]any, error) {
		metadata, err := admin.BrokerMetadata(ctx)
		if err != nil {
			return nil, err
		}
		brokers := []map[string]any{}
		for _, broker := range metadata.Brokers {
			brokers = append(brokers, map[string]any{"id": broker.NodeID, "host": broker.Host, "port": broker.Port})
		}
		return map[string]any{"clusterId": metadata.Cluster, "controller": metadata.Controller, "brokers": brokers}, nil
	})
	step("admin", "createTopics", func() (map[string]any, error) { return createTopics(ctx, admin) })
	step("admin", "listTopics", func() (map[string]any, error) {
		topics, err := admin.ListTopics(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]any{"names": topics.Names()}, nil
	})
	step("admin", "describeTopics", func() (map[string]any, error) { return describeTopic(ctx, admin) })
	step("admin", "describeTopicConfigs", func() (map[string]any, error) { return topicConfigs(ctx, admin) })
	step("admin", "alterTopicConfigs", func() (map[string]any, error) {
		responses, err := admin.AlterTopicConfigs(ctx, []kadm.AlterConfig{{
			Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("7200000")}}, adminTopicA)
		if err == nil {
			for _, response := range responses {
				if response.Err != nil {
					return nil, response.Err
				}
			}
		}
		if err != nil {
			return nil, err
		}
		return topicConfigs(ctx, admin)
	})
	step("admin", "listOffsets", func() (map[string]any, error) { return listOffsets(ctx, admin) })
	step("admin", "groups", func() (map[string]any, error) { return groups(ctx, admin) })
	step("admin", "deleteTopics", func() (map[string]any, error) { return deleteTopic(ctx, admin) })
}

func createTopics(ctx context.Context, admin *kadm.Client) (map[string]any, error) {
	created, err := admin.CreateTopics(ctx, 3, 1, map[string]*string{"retention.ms": kadm.StringPtr("3600000")}, adminTopicA)
	if err == nil {
		err = created.Error()
	}
	if err != nil {
		return nil, err
	}
	other, err := admin.CreateTopics(ctx, 1, 1, nil, adminTopicB)
	if err == nil {
		err = other.Error()
	}
	if err != nil {
		return nil, err
	}
	a := created[adminTopicA]
	retention := ""
	if config, found := a.Configs["retention.ms"]; found && config.Value != nil {
		retention = *config.Value
	}
	return map[string]any{"topicId": topicID(a.ID), "partitions": a.NumPartitions,
		"replicationFactor": a.ReplicationFactor, "retention.ms": retention}, nil
}

func describeTopic(ctx context.Context, admin *kadm.Client) (map[string]any, error) {
	topics, err := admin.ListTopics(ctx, adminTopicA)
	if err != nil {
		return nil, err
	}
	detail, found := topics[adminTopicA]
	if !found {
		return nil, fmt.Errorf("%s not described", adminTopicA)
	}
	if detail.Err != nil {
		return nil, detail.Err
	}
	partitions := []map[string]any{}
	for _, p := range detail.Partitions.Sorted() {
		partitions = append(partitions, map[string]any{"partition": p.Partition, "leader": p.Leader,
			"replicas": len(p.Replicas), "isr": len(p.ISR)})
	}
	return map[string]any{"internal": detail.IsInternal, "topicId": topicID(detail.ID), "partitions": partitions}, nil
}

func topicConfigs(ctx context.Context, admin *kadm.Client) (map[string]any, error) {
	described, err := admin.DescribeTopicConfigs(ctx, adminTopicA)
	if err != nil {
		return nil, err
	}
	config, err := described.On(adminTopicA, nil)
	if err != nil {
		return nil, err
	}
	if config.Err != nil {
		return nil, config.Err
	}
	entries := map[string]any{}
	for _, entry := range config.Configs {
		entries[entry.Key] = map[string]any{"value": entry.Value, "source": entry.Source.String()}
	}
	return map[string]any{"entries": entries}, nil
}

func listOffsets(ctx context.Context, admin *kadm.Client) (map[string]any, error) {
	starts, err := admin.ListStartOffsets(ctx, groupTopic)
	if err != nil {
		return nil, err
	}
	ends, err := admin.ListEndOffsets(ctx, groupTopic)
	if err != nil {
		return nil, err
	}
	start, end := map[string]int64{}, map[string]int64{}
	var firstErr error
	collect := func(into map[string]int64) func(kadm.ListedOffset) {
		return func(o kadm.ListedOffset) {
			if o.Err != nil && firstErr == nil {
				firstErr = o.Err
			}
			into[fmt.Sprint(o.Partition)] = o.Offset
		}
	}
	starts.Each(collect(start))
	ends.Each(collect(end))
	if firstErr != nil {
		return nil, firstErr
	}
	return map[string]any{"start": start, "end": end}, nil
}

func groups(ctx context.Context, admin *kadm.Client) (map[string]any, error) {
	listed, err := admin.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	names := listed.Groups()
	sort.Strings(names)
	described, err := admin.DescribeGroups(ctx, groupID)
	if err != nil {
		return nil, err
	}
	group := described[groupID]
	if group.Err != nil {
		return nil, group.Err
	}
	offsets, err := admin.FetchOffsets(ctx, groupID)
	if err != nil {
		return nil, err
	}
	committed := map[string]int64{}
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic == groupTopic {
			committed[fmt.Sprint(o.Partition)] = o.At
		}
	})
	return map[string]any{"listed": names, "listedState": listed[groupID].State,
		"state": group.State, "protocolType": group.ProtocolType, "members": len(group.Members),
		"committed": committed}, nil
}

// deleteTopic deletes adminTopicB and lists topics until it is gone: as with Kafka, whose
// brokers apply the metadata log asynchronously, a Metadata answer right after DeleteTopics may
// still name the topic. Emits the names listed last and how many listings it took.
func deleteTopic(ctx context.Context, admin *kadm.Client) (map[string]any, error) {
	responses, err := admin.DeleteTopics(ctx, adminTopicB)
	if err == nil {
		err = responses.Error()
	}
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for listings := 1; ; listings++ {
		topics, err := admin.ListTopics(ctx)
		if err != nil {
			return nil, err
		}
		if _, listed := topics[adminTopicB]; !listed || time.Now().After(deadline) {
			return map[string]any{"names": topics.Names(), "listings": listings}, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}
