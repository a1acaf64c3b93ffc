package tributary.interop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;

/**
 * An exactly-once consume-transform-produce job (test/cluster/eos-pipeline.test.ts): reads
 * <input> with read_committed, writes each value transformed ("in-7" becomes "out-7") to the
 * same partition of <output>, and commits the input offsets of group <group> inside each
 * transaction (sendOffsetsToTransaction), at most <maxPoll> records per transaction.
 *
 * The input partitions are assigned, not subscribed, so a restarted instance needs no
 * rebalance: its position is the group's committed offset (OffsetFetch with require_stable,
 * KIP-447, waits for a pending transactional commit). A zombie is fenced by the
 * transactional.id (KIP-98): the new instance's InitProducerId bumps the epoch and aborts what
 * the old one left open. On any other error the instance starts over in process (new producer,
 * same id; new consumer from the committed offsets), as Kafka's EOS examples do.
 *
 * Prints one JSON line per commit: {"event":"commit","position":P} with P the sum of the input
 * positions committed, and {"event":"done"} once every input partition's committed position
 * reached its end offset. Exits 0 when done, 3 when fenced, 2 when its deadline passed.
 *
 * Usage: EosJob <bootstrap> <input> <output> <group> <transactionalId> <partitions> <maxPoll>
 *   <deadlineSeconds> <pauseMs>
 * (pauseMs: a sleep after each commit, so that a short input lasts long enough to be killed
 * in the middle of).
 */
public final class EosJob {
  private EosJob() {}

  public static void main(String[] args) {
    String bootstrap = args[0];
    String input = args[1];
    String output = args[2];
    String group = args[3];
    String transactionalId = args[4];
    int partitions = Integer.parseInt(args[5]);
    int maxPoll = Integer.parseInt(args[6]);
    long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[7])).toNanos();
    long pauseMs = Long.parseLong(args[8]);
    List<TopicPartition> inputs = new ArrayList<>();
    for (int p = 0; p < partitions; p++) inputs.add(new TopicPartition(input, p));
    int code = 2;
    while (System.nanoTime() < deadline) {
      try {
        if (runInstance(bootstrap, inputs, output, group, transactionalId, maxPoll, deadline,
            pauseMs)) {
          Interop.emit(Json.object("event", "done"));
          code = 0;
          break;
        }
      } catch (ProducerFencedException fenced) {
        Interop.emit(Json.object("event", "fenced", "error", String.valueOf(fenced)));
        code = 3;
        break;
      } catch (Exception error) {
        Interop.emit(Json.object("event", "restart", "error", String.valueOf(error)));
        sleep(500);
      }
    }
    System.out.flush();
    System.exit(code);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** One producer and consumer pair until done (true) or the deadline (false). */
  private static boolean runInstance(String bootstrap, List<TopicPartition> inputs,
      String output, String group, String transactionalId, int maxPoll, long deadline,
      long pauseMs) {
    Properties producerProps = TransactionScenario.transactional(bootstrap, "eos-job-producer",
        transactionalId);
    producerProps.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000);
    Properties consumerProps = TransactionScenario.readCommitted(bootstrap, "eos-job-consumer",
        group);
    consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPoll);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps);
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps)) {
      producer.initTransactions();
      consumer.assign(inputs);
      while (System.nanoTime() < deadline) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          if (caughtUp(consumer, inputs)) return true;
          continue;
        }
        producer.beginTransaction();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> record : records) {
          producer.send(new ProducerRecord<>(output, record.partition(), record.key(),
              record.value().replace("in-", "out-")));
          offsets.put(new TopicPartition(record.topic(), record.partition()),
              new OffsetAndMetadata(record.offset() + 1));
        }
        producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
        producer.commitTransaction();
        long position = 0;
        for (TopicPartition partition : inputs) position += consumer.position(partition);
        Interop.emit(Json.object("event", "commit", "position", position));
        sleep(pauseMs);
      }
      return false;
    }
  }

  /** Every input partition's committed offset is at its end (the LSO, read_committed). */
  private static boolean caughtUp(KafkaConsumer<String, String> consumer,
      List<TopicPartition> inputs) {
    Map<TopicPartition, Long> ends = consumer.endOffsets(inputs);
    Map<TopicPartition, OffsetAndMetadata> committed =
        consumer.committed(new HashSet<>(inputs));
    for (TopicPartition partition : inputs) {
      OffsetAndMetadata offset = committed.get(partition);
      if (offset == null || offset.offset() < ends.get(partition)) return false;
    }
    return true;
  }
}
