package tributary.interop;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * A producer with the defaults (idempotent, acks=all) and one compression codec writes RECORDS
 * keyed records with a header into topic java-<codec> (created beforehand with 3 partitions);
 * a consumer without a group reads every partition back from the start. Emits the acks
 * ([partition, offset] per record, in send order) and what was read
 * ([partition, offset, key, value, header n]).
 */
final class ProduceScenario {
  static final int RECORDS = 2000;

  private ProduceScenario() {}

  static void run(String bootstrap, String codec) {
    String scenario = "produce:" + codec;
    String topic = "java-" + codec;
    Interop.step(scenario, "produce", () -> produce(bootstrap, codec, topic));
    Interop.step(scenario, "consume", () -> consume(bootstrap, codec, topic));
  }

  static String value(String codec, int i) {
    return codec + "-value-" + i + "-" + "abcdefgh".repeat(i % 13);
  }

  private static Map<String, Object> produce(String bootstrap, String codec, String topic)
      throws Exception {
    List<List<Long>> acks = new ArrayList<>();
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(Clients.producer(bootstrap, "java-producer-" + codec, codec))) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < RECORDS; i++) {
        ProducerRecord<String, String> record =
            new ProducerRecord<>(topic, "key-" + (i % 17), value(codec, i));
        record.headers().add("n", String.valueOf(i).getBytes(StandardCharsets.UTF_8));
        sent.add(producer.send(record));
      }
      producer.flush();
      for (Future<RecordMetadata> future : sent) {
        RecordMetadata metadata = future.get();
        acks.add(List.of((long) metadata.partition(), metadata.offset()));
      }
    }
    return Json.object("acks", acks);
  }

  private static Map<String, Object> consume(String bootstrap, String codec, String topic) {
    List<List<Object>> read = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(Clients.consumer(bootstrap, "java-reader-" + codec, null))) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(info -> new TopicPartition(topic, info.partition()))
          .collect(Collectors.toList());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (read.size() < RECORDS && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          Header n = record.headers().lastHeader("n");
          read.add(List.of(record.partition(), record.offset(), record.key(), record.value(),
              n == null ? "" : new String(n.value(), StandardCharsets.UTF_8)));
        }
      }
    }
    return Json.object("records", read);
  }
}
