package tributary.interop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer group of three members (the default classic protocol) on topic java-group
 * (created beforehand with 6 partitions), each in its own thread, committing synchronously after
 * every poll. Phase 1: PHASE_RECORDS records are produced and consumed while all three are
 * members (2 partitions each). Then member 3 leaves (close sends LeaveGroup). Phase 2: as many
 * records again are produced and the two remaining members, now with 3 partitions each,
 * consume them, including those in the partitions member 3 had. Emits the assignments of each
 * phase and every record consumed as [partition, offset, member].
 */
final class GroupScenario {
  static final String SCENARIO = "group";
  static final String TOPIC = "java-group";
  static final String GROUP = "java-group";
  static final int PHASE_RECORDS = 1500;
  private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(45);

  private final String bootstrap;
  private final ConcurrentLinkedQueue<List<Object>> consumed = new ConcurrentLinkedQueue<>();
  private final AtomicInteger consumedCount = new AtomicInteger();
  private final Map<Integer, List<Integer>> assignments = new ConcurrentHashMap<>();
  private final Map<Integer, String> errors = new ConcurrentHashMap<>();
  private final boolean[] stop = new boolean[4];

  private GroupScenario(String bootstrap) {
    this.bootstrap = bootstrap;
  }

  static void run(String bootstrap) throws Exception {
    new GroupScenario(bootstrap).phases();
  }

  private void phases() throws Exception {
    List<Thread> members = new ArrayList<>();
    for (int member = 1; member <= 3; member++) {
      int id = member;
      Thread thread = new Thread(() -> consumeAs(id), "member-" + id);
      thread.setDaemon(true);
      thread.start();
      members.add(thread);
    }
    Interop.step(SCENARIO, "three-members", () -> {
      produce(0);
      awaitPhase(PHASE_RECORDS, List.of(1, 2, 3), 2);
      return Json.object("assignments", new TreeMap<>(assignments));
    });
    Interop.step(SCENARIO, "member-leaves", () -> {
      synchronized (stop) {
        stop[3] = true;
      }
      members.get(2).join(PHASE_TIMEOUT.toMillis());
      if (members.get(2).isAlive()) throw new IllegalStateException("member 3 did not close");
      assignments.remove(3);
      produce(PHASE_RECORDS);
      awaitPhase(2 * PHASE_RECORDS, List.of(1, 2), 3);
      return Json.object("assignments", new TreeMap<>(assignments));
    });
    synchronized (stop) {
      stop[1] = true;
      stop[2] = true;
    }
    for (Thread thread : members) thread.join(PHASE_TIMEOUT.toMillis());
    Interop.step(SCENARIO, "consumed", () -> Json.object(
        "records", new ArrayList<>(consumed), "memberErrors", new TreeMap<>(errors)));
  }

  private void produce(int from) throws Exception {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(Clients.producer(bootstrap, "java-group-producer", "none"))) {
      for (int i = from; i < from + PHASE_RECORDS; i++) {
        producer.send(new ProducerRecord<>(TOPIC, "key-" + i, "group-value-" + i));
      }
      producer.flush();
    }
  }

  /** Waits until `total` records were consumed and each member holds `each` partitions. */
  private void awaitPhase(int total, List<Integer> members, int each) throws Exception {
    BooleanSupplier done = () -> consumedCount.get() >= total && members.stream().allMatch(
        member -> assignments.getOrDefault(member, List.of()).size() == each);
    long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("consumed " + consumedCount.get() + " of " + total +
            ", assignments " + assignments + ", member errors " + errors);
      }
      Thread.sleep(50);
    }
  }

  private boolean stopped(int member) {
    synchronized (stop) {
      return stop[member];
    }
  }

  private void consumeAs(int member) {
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
        Clients.consumer(bootstrap, "java-consumer-" + member, GROUP))) {
      consumer.subscribe(List.of(TOPIC));
      while (!stopped(member)) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
        for (ConsumerRecord<String, String> record : records) {
          consumed.add(List.of(record.partition(), record.offset(), member));
        }
        // Committed before the next poll, which is where a rebalance can take partitions
        // away, so no record is handed to two members.
        if (!records.isEmpty()) consumer.commitSync();
        consumedCount.addAndGet(records.count());
        assignments.put(member, consumer.assignment().stream()
            .map(TopicPartition::partition).sorted().toList());
      }
    } catch (Throwable error) {
      errors.put(member, Interop.describe(error));
    }
  }
}
