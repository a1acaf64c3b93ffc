package tributary.interop;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * One consumer on the next-generation group protocol (group.protocol=consumer, KIP-848, GA in
 * Kafka 4.0) reads everything GroupScenario wrote to java-group, in a group of its own, and
 * commits. Needs ConsumerGroupHeartbeat on the broker.
 */
final class ConsumerProtocolScenario {
  static final String SCENARIO = "consumer-protocol";
  static final String GROUP = "java-group-consumer-protocol";

  private ConsumerProtocolScenario() {}

  static void run(String bootstrap) {
    Interop.step(SCENARIO, "consume", () -> consume(bootstrap));
  }

  private static Map<String, Object> consume(String bootstrap) {
    var props = Clients.consumer(bootstrap, "java-consumer-protocol", GROUP);
    props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
    int expected = 2 * GroupScenario.PHASE_RECORDS;
    int count = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(GroupScenario.TOPIC));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (count < expected && System.nanoTime() < deadline) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
        count += records.count();
        if (!records.isEmpty()) consumer.commitSync();
      }
      return Json.object("consumed", count,
          "assignment", consumer.assignment().stream().map(tp -> tp.partition()).sorted().toList());
    }
  }
}
