package tributary.interop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Transactions (KIP-98) with the Java client, on topics created beforehand: java-txn (2
 * partitions), java-txn-in (2; the scenario writes IN_RECORDS plain records) and java-txn-out (2).
 *   - commit: a transactional producer commits COMMITTED records across both partitions;
 *   - abort: the same producer aborts ABORTED records;
 *   - fence: a second producer with the same transactional.id initialises; the first one's
 *     next transaction fails (ProducerFencedException expected);
 *   - timeout: a producer with transaction.timeout.ms=1000 leaves a transaction open past it;
 *     the coordinator aborts it, so the producer's commit fails;
 *   - read-committed: a read_committed consumer reads java-txn to its end;
 *   - ctp: consume-transform-produce from java-txn-in to java-txn-out in group java-txn-ctp
 *     with the offsets in each transaction (sendOffsetsToTransaction).
 */
final class TransactionScenario {
  static final String SCENARIO = "txn";
  static final String TOPIC = "java-txn";
  static final String IN = "java-txn-in";
  static final String OUT = "java-txn-out";
  static final String GROUP = "java-txn-ctp";
  static final int COMMITTED = 10;
  static final int ABORTED = 5;
  static final int IN_RECORDS = 40;
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  private TransactionScenario() {}

  static Properties transactional(String bootstrap, String clientId, String transactionalId) {
    Properties props = Clients.producer(bootstrap, clientId, "none");
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    return props;
  }

  static Properties readCommitted(String bootstrap, String clientId, String groupId) {
    Properties props = Clients.consumer(bootstrap, clientId, groupId);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return props;
  }

  static void run(String bootstrap) {
    KafkaProducer<String, String> first = new KafkaProducer<>(
        transactional(bootstrap, "java-txn-first", "java-txn-id"));
    try {
      Interop.step(SCENARIO, "commit", () -> {
        first.initTransactions();
        first.beginTransaction();
        for (int i = 0; i < COMMITTED; i++) {
          first.send(new ProducerRecord<>(TOPIC, i % 2, "k" + i, "committed-" + i));
        }
        first.commitTransaction();
        return Json.object("committed", COMMITTED);
      });
      Interop.step(SCENARIO, "abort", () -> {
        first.beginTransaction();
        for (int i = 0; i < ABORTED; i++) {
          first.send(new ProducerRecord<>(TOPIC, i % 2, "k" + i, "aborted-" + i));
        }
        first.flush();
        first.abortTransaction();
        return Json.object("aborted", ABORTED);
      });
      Interop.step(SCENARIO, "fence", () -> fence(bootstrap, first));
    } finally {
      first.close(Duration.ofSeconds(5));
    }
    Interop.step(SCENARIO, "timeout", () -> timeout(bootstrap));
    Interop.step(SCENARIO, "read-committed", () ->
        Json.object("values", readAll(bootstrap, TOPIC, "read_committed")));
    Interop.step(SCENARIO, "read-uncommitted", () ->
        Json.object("values", readAll(bootstrap, TOPIC, "read_uncommitted")));
    Interop.step(SCENARIO, "ctp", () -> consumeTransformProduce(bootstrap));
  }

  /** A zombie: `first` is fenced by a second instance with the same transactional.id. */
  private static Map<String, Object> fence(String bootstrap, KafkaProducer<String, String> first) {
    try (KafkaProducer<String, String> second = new KafkaProducer<>(
        transactional(bootstrap, "java-txn-second", "java-txn-id"))) {
      second.initTransactions();
      String zombieError = null;
      try {
        first.beginTransaction();
        first.send(new ProducerRecord<>(TOPIC, 0, "zombie", "zombie")).get();
        first.commitTransaction();
      } catch (Exception error) {
        zombieError = rootClass(error);
      }
      second.beginTransaction();
      second.send(new ProducerRecord<>(TOPIC, 1, "k", "second"));
      second.commitTransaction();
      return Json.object("zombieError", zombieError);
    }
  }

  /** A transaction left open past transaction.timeout.ms is aborted by the coordinator. */
  private static Map<String, Object> timeout(String bootstrap) throws Exception {
    Properties props = transactional(bootstrap, "java-txn-timeout", "java-txn-timeout-id");
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 1000);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(TOPIC, 0, "late", "timed-out")).get();
      Thread.sleep(3000);
      String commitError = null;
      try {
        producer.commitTransaction();
      } catch (Exception error) {
        commitError = rootClass(error);
      }
      return Json.object("commitError", commitError);
    }
  }

  private static String rootClass(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    return root.getClass().getSimpleName();
  }

  /** Every value in `topic` (both partitions) up to its end offsets for the isolation level. */
  static List<String> readAll(String bootstrap, String topic, String isolation) throws Exception {
    Properties props = Clients.consumer(bootstrap, "java-txn-reader", null);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0),
          new TopicPartition(topic, 1));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // endOffsets follows the consumer's isolation level: the LSO for read_committed.
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        if (System.nanoTime() > deadline) throw new IllegalStateException("read timed out");
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
          values.add(record.value());
        }
      }
    }
    values.sort(null);
    return values;
  }

  /** Copies java-txn-in to java-txn-out upper-cased, the group's offsets in each transaction. */
  private static Map<String, Object> consumeTransformProduce(String bootstrap) throws Exception {
    try (KafkaProducer<String, String> plain = new KafkaProducer<>(
        Clients.producer(bootstrap, "java-txn-input", "none"))) {
      for (int i = 0; i < IN_RECORDS; i++) {
        plain.send(new ProducerRecord<>(IN, i % 2, "k" + i, "input-" + i));
      }
      plain.flush();
    }
    int copied = 0;
    int transactions = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
            readCommitted(bootstrap, "java-txn-ctp-consumer", GROUP));
        KafkaProducer<String, String> producer = new KafkaProducer<>(
            transactional(bootstrap, "java-txn-ctp-producer", "java-txn-ctp-id"))) {
      producer.initTransactions();
      consumer.subscribe(List.of(IN));
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (copied < IN_RECORDS) {
        if (System.nanoTime() > deadline) throw new IllegalStateException("copied " + copied);
        var records = consumer.poll(Duration.ofMillis(100));
        if (records.isEmpty()) continue;
        producer.beginTransaction();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> record : records) {
          producer.send(new ProducerRecord<>(OUT, record.partition(), record.key(),
              record.value().toUpperCase()));
          offsets.put(new TopicPartition(record.topic(), record.partition()),
              new OffsetAndMetadata(record.offset() + 1));
        }
        producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
        producer.commitTransaction();
        copied += records.count();
        transactions++;
      }
      Map<String, Object> committed = new HashMap<>();
      consumer.committed(java.util.Set.of(new TopicPartition(IN, 0), new TopicPartition(IN, 1)))
          .forEach((tp, offset) -> committed.put(String.valueOf(tp.partition()),
              offset == null ? null : offset.offset()));
      return Json.object("copied", copied, "transactions", transactions,
          "committed", committed, "output", readAll(bootstrap, OUT, "read_committed"));
    }
  }
}
