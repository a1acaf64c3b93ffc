package tributary.interop;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;

/**
 * The Admin client: describe the cluster; create, list and describe topics; describe and
 * (incrementally) alter configs; list offsets by every spec; delete records; list and describe
 * consumer groups and their offsets (the group of GroupScenario, run before); delete a topic.
 * Each call is its own step, so a missing protocol feature fails only the step that needs it.
 */
final class AdminScenario {
  static final String SCENARIO = "admin";
  static final String TOPIC_A = "java-admin-a";
  static final String TOPIC_B = "java-admin-b";
  /** Record i of TOPIC_A partition 0 has timestamp BASE_TIMESTAMP + i * 1000. */
  static final long BASE_TIMESTAMP = 1_700_000_000_000L;
  static final int OFFSETS_RECORDS = 30;

  private static CreateTopicsResult created;

  private AdminScenario() {}

  static void run(String bootstrap) throws Exception {
    try (Admin admin = Admin.create(Clients.admin(bootstrap, "java-admin"))) {
      Interop.step(SCENARIO, "describeCluster", () -> describeCluster(admin));
      Interop.step(SCENARIO, "createTopics", () -> createTopics(admin));
      Interop.step(SCENARIO, "createTopicsMetadata", AdminScenario::createdTopicMetadata);
      Interop.step(SCENARIO, "listTopics", () ->
          Json.object("names", new ArrayList<>(admin.listTopics().names().get())));
      Interop.step(SCENARIO, "describeTopics", () -> describeTopics(admin));
      ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC_A);
      Interop.step(SCENARIO, "describeTopicConfigs", () -> describeConfigs(admin, topic));
      Interop.step(SCENARIO, "describeBrokerConfigs", () -> describeConfigs(admin,
          new ConfigResource(ConfigResource.Type.BROKER,
              String.valueOf(admin.describeCluster().controller().get().id()))));
      Interop.step(SCENARIO, "incrementalAlterConfigs", () -> {
        admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(
            new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET)))).all().get();
        return describeConfigs(admin, topic);
      });
      produceWithTimestamps(bootstrap);
      Interop.step(SCENARIO, "listOffsets", () -> listOffsets(admin));
      Interop.step(SCENARIO, "deleteRecords", () -> {
        TopicPartition partition = new TopicPartition(TOPIC_A, 0);
        long low = admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(10)))
            .lowWatermarks().get(partition).get().lowWatermark();
        long earliest = admin.listOffsets(Map.of(partition, OffsetSpec.earliest())).all().get()
            .get(partition).offset();
        return Json.object("lowWatermark", low, "earliest", earliest);
      });
      Interop.step(SCENARIO, "listConsumerGroups", () -> listGroups(admin));
      Interop.step(SCENARIO, "describeConsumerGroups", () -> describeGroup(admin));
      Interop.step(SCENARIO, "listConsumerGroupOffsets", () -> groupOffsets(admin));
      Interop.step(SCENARIO, "deleteTopics", () -> deleteTopic(admin));
    }
  }

  /**
   * Deletes TOPIC_B and lists topics until it is gone: Kafka's brokers apply the metadata log
   * asynchronously, so a listing right after DeleteTopics may still name it.
   */
  private static Map<String, Object> deleteTopic(Admin admin) throws Exception {
    admin.deleteTopics(List.of(TOPIC_B)).all().get();
    long deadline = System.nanoTime() + 10_000_000_000L;
    for (int listings = 1; ; listings++) {
      Set<String> names = admin.listTopics().names().get();
      if (!names.contains(TOPIC_B) || System.nanoTime() > deadline) {
        return Json.object("names", new ArrayList<>(names), "listings", listings);
      }
      Thread.sleep(100);
    }
  }

  private static Map<String, Object> describeCluster(Admin admin) throws Exception {
    DescribeClusterResult cluster = admin.describeCluster();
    List<Object> nodes = new ArrayList<>();
    cluster.nodes().get().forEach(node ->
        nodes.add(Json.object("id", node.id(), "host", node.host(), "port", node.port())));
    return Json.object("clusterId", cluster.clusterId().get(),
        "controller", cluster.controller().get().id(), "nodes", nodes);
  }

  private static Map<String, Object> createTopics(Admin admin) throws Exception {
    CreateTopicsResult result = admin.createTopics(List.of(
        new NewTopic(TOPIC_A, 3, (short) 1).configs(Map.of("retention.ms", "3600000")),
        new NewTopic(TOPIC_B, 1, (short) 1)));
    result.all().get();
    created = result;
    return Json.object();
  }

  /** CreateTopics v5+ returns the created topic's layout and configs, v7+ its id (KIP-516). */
  private static Map<String, Object> createdTopicMetadata() throws Exception {
    if (created == null) throw new IllegalStateException("createTopics failed");
    Config config = created.config(TOPIC_A).get();
    return Json.object(
        "partitions", created.numPartitions(TOPIC_A).get(),
        "replicationFactor", (int) created.replicationFactor(TOPIC_A).get(),
        "retention.ms", config.get("retention.ms").value(),
        "topicId", String.valueOf(created.topicId(TOPIC_A).get()));
  }

  private static Map<String, Object> describeTopics(Admin admin) throws Exception {
    TopicDescription description =
        admin.describeTopics(List.of(TOPIC_A)).allTopicNames().get().get(TOPIC_A);
    List<Object> partitions = new ArrayList<>();
    description.partitions().forEach(info -> partitions.add(Json.object(
        "partition", info.partition(), "leader", info.leader() == null ? -1 : info.leader().id(),
        "replicas", info.replicas().size(), "isr", info.isr().size())));
    return Json.object("name", description.name(), "internal", description.isInternal(),
        "topicId", String.valueOf(description.topicId()), "partitions", partitions);
  }

  private static Map<String, Object> describeConfigs(Admin admin, ConfigResource resource)
      throws Exception {
    Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
    Map<String, Object> entries = new TreeMap<>();
    for (ConfigEntry entry : config.entries()) {
      entries.put(entry.name(), Json.object("value", entry.value(),
          "source", entry.source().name(), "readOnly", entry.isReadOnly(),
          "sensitive", entry.isSensitive()));
    }
    return Json.object("entries", entries);
  }

  private static void produceWithTimestamps(String bootstrap) throws Exception {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(Clients.producer(bootstrap, "java-admin-producer", "none"))) {
      for (int i = 0; i < OFFSETS_RECORDS; i++) {
        producer.send(new ProducerRecord<>(TOPIC_A, 0, BASE_TIMESTAMP + i * 1000L,
            "k" + i, "v" + i)).get();
      }
    }
  }

  private static Map<String, Object> listOffsets(Admin admin) throws Exception {
    TopicPartition partition = new TopicPartition(TOPIC_A, 0);
    Map<String, OffsetSpec> specs = new TreeMap<>(Map.of(
        "earliest", OffsetSpec.earliest(),
        "latest", OffsetSpec.latest(),
        "forTimestamp", OffsetSpec.forTimestamp(BASE_TIMESTAMP + 10_500),
        "maxTimestamp", OffsetSpec.maxTimestamp()));
    Map<String, Object> line = Json.object();
    for (Map.Entry<String, OffsetSpec> spec : specs.entrySet()) {
      try {
        ListOffsetsResultInfo info = admin.listOffsets(Map.of(partition, spec.getValue()))
            .all().get().get(partition);
        line.put(spec.getKey(), Json.object("offset", info.offset(),
            "timestamp", info.timestamp()));
      } catch (Exception error) {
        line.put(spec.getKey(), Json.object("error", Interop.describe(error)));
      }
    }
    return line;
  }

  @SuppressWarnings("deprecation")
  private static Map<String, Object> listGroups(Admin admin) throws Exception {
    List<Object> groups = new ArrayList<>();
    admin.listConsumerGroups().all().get().forEach(group -> groups.add(Json.object(
        "groupId", group.groupId(),
        "state", group.groupState().map(Object::toString).orElse(null),
        "type", group.type().map(Object::toString).orElse(null))));
    return Json.object("groups", groups);
  }

  private static Map<String, Object> describeGroup(Admin admin) throws Exception {
    ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(GroupScenario.GROUP))
        .all().get().get(GroupScenario.GROUP);
    return Json.object("groupId", group.groupId(), "state", group.groupState().toString(),
        "members", group.members().size(), "assignor", group.partitionAssignor(),
        "coordinator", group.coordinator().id(), "type", group.type().toString());
  }

  private static Map<String, Object> groupOffsets(Admin admin) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = admin
        .listConsumerGroupOffsets(GroupScenario.GROUP).partitionsToOffsetAndMetadata().get();
    Map<String, Object> byPartition = new TreeMap<>();
    offsets.forEach((partition, offset) -> byPartition.put(
        String.valueOf(partition.partition()), offset == null ? null : offset.offset()));
    return Json.object("offsets", byPartition);
  }

}
