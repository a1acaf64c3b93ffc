package tributary.interop;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * Drives Apache Kafka's Java client (kafka-clients) against a broker and prints one JSON object
 * per line: {"scenario": ..., "step": ..., "ok": true, ...} or {"ok": false, "error": ...}.
 * test/interop/java-client.test.ts runs it and checks every line.
 *
 * Usage: Interop <bootstrap> <scenario>...
 * Scenarios: produce:<codec>, group, admin, consumer-protocol (run after group), txn.
 * Each scenario catches its own failure, so one broken step does not hide the others.
 */
public final class Interop {
  private Interop() {}

  public static void main(String[] args) {
    String bootstrap = args[0];
    emitVersions();
    for (int i = 1; i < args.length; i++) {
      String scenario = args[i];
      try {
        if (scenario.startsWith("produce:")) {
          ProduceScenario.run(bootstrap, scenario.substring("produce:".length()));
        } else if (scenario.equals("group")) {
          GroupScenario.run(bootstrap);
        } else if (scenario.equals("admin")) {
          AdminScenario.run(bootstrap);
        } else if (scenario.equals("txn")) {
          TransactionScenario.run(bootstrap);
        } else if (scenario.equals("consumer-protocol")) {
          ConsumerProtocolScenario.run(bootstrap);
        } else {
          emit(Json.object("scenario", scenario, "step", "start", "ok", false,
              "error", "unknown scenario"));
        }
      } catch (Throwable error) {
        emit(Json.object("scenario", scenario, "step", "scenario", "ok", false,
            "error", describe(error)));
      }
    }
    System.out.flush();
    // Client threads that did not close in time must not keep the JVM alive.
    System.exit(0);
  }

  /**
   * The client's own version and, from its protocol tables, the stable version range of every
   * API a Kafka 4.1 broker serves (ApiKeys.brokerApis(), latestVersion(false): without unstable
   * versions): the target for the broker under test.
   */
  private static void emitVersions() {
    List<Object> apis = new ArrayList<>();
    for (ApiKeys api : ApiKeys.brokerApis()) {
      apis.add(Json.object("apiKey", (int) api.id, "name", api.name,
          "minVersion", (int) api.oldestVersion(), "maxVersion", (int) api.latestVersion(false)));
    }
    emit(Json.object("scenario", "client", "step", "versions", "ok", true,
        "version", AppInfoParser.getVersion(), "brokerApis", apis));
  }

  static synchronized void emit(Map<String, Object> line) {
    System.out.println(Json.write(line));
    System.out.flush();
  }

  /** Runs one step and emits its line: the step's own fields on success, the error otherwise. */
  static void step(String scenario, String step, StepBody body) {
    Map<String, Object> line = Json.object("scenario", scenario, "step", step);
    try {
      Map<String, Object> result = body.run();
      line.put("ok", true);
      line.putAll(result);
    } catch (Throwable error) {
      line.put("ok", false);
      line.put("error", describe(error));
    }
    emit(line);
  }

  /** The root cause's class and message (ExecutionException wraps the client's error). */
  static String describe(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String text = root.getClass().getName() + ": " + root.getMessage();
    if (root instanceof NullPointerException || root instanceof ClassCastException) {
      StringWriter trace = new StringWriter();
      root.printStackTrace(new PrintWriter(trace));
      text += "\n" + trace;
    }
    return text;
  }

  @FunctionalInterface
  interface StepBody {
    Map<String, Object> run() throws Exception;
  }
}
