#!/usr/bin/env python3
"""The open-loop latency run with librdkafka (confluent-kafka for Python) as the load generator:
`npm run bench -- latency --client librdkafka`, a cross-check of the Node generator's numbers
with Kafka's C client (bench/lib/librdkafka-run.ts runs it).

librdkafka does its batching, network I/O and acknowledgement handling in its own C threads;
this script only paces the produce() calls, stamps each record's value with a monotonic
nanosecond time in its first 8 bytes, and reads the stamps back in a consumer thread. Produce
latency runs from produce() to the delivery report (served by poll() in the pacing loop), end to
end from the stamp to the consume() that returns the record; both are per record. The pacing
loop sends every record due by now, round-robin over the partitions, then sleeps to the next
one due, at least 1 ms. Python's cyclic GC is off over the run (reference counting frees what
the run allocates), so the script has no collector pauses to report.

Usage: librdkafka_latency.py <bootstrap> [options]; prints one JSON line,
{"scenario": "latency", "step": "run", "ok": true, ...the run's result} or ok false and error,
and a {"scenario": "client", "step": "versions", ...} line first.
"""
import argparse
import gc
import json
import math
import resource
import struct
import sys
import threading
import time
import urllib.request

import confluent_kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

STAMP = struct.Struct('>q')


def emit(line):
    print(json.dumps(line), flush=True)


def parse_options(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('bootstrap')
    parser.add_argument('--topic', required=True)
    parser.add_argument('--partitions', type=int, required=True)
    parser.add_argument('--rate', type=float, required=True)
    parser.add_argument('--message-size', type=int, default=100)
    parser.add_argument('--duration', type=float, default=8)
    parser.add_argument('--warmup', type=float, default=2)
    parser.add_argument('--acks', type=int, default=-1)
    parser.add_argument('--linger-ms', type=float, default=5)
    parser.add_argument('--batch-bytes', type=int, default=16384)
    parser.add_argument('--inflight', type=int, default=32)
    parser.add_argument('--max-buffered', type=int, default=100000)
    parser.add_argument('--drain-ms', type=int, default=2000)
    parser.add_argument('--percentiles', default='50,90,99,99.9')
    parser.add_argument('--debug-url')
    options = parser.parse_args(argv)
    if options.message_size < 8:
        parser.error('--message-size must be at least 8 bytes (the stamp)')
    if options.rate <= 0 or options.partitions <= 0:
        parser.error('--rate and --partitions must be positive')
    return options


def at(sorted_values, p):
    """The value at percentile p of sorted samples (nearest rank), as the other generators."""
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[min(max(rank - 1, 0), len(sorted_values) - 1)]


def to_ms(nanoseconds):
    return round(nanoseconds / 1e3) / 1e3


def percentiles_ms(samples_ns):
    """p50, p99, p99.9 and max in ms; zeros when there are none."""
    if not samples_ns:
        return {'p50': 0, 'p99': 0, 'p999': 0, 'max': 0}
    values = sorted(samples_ns)
    return {'p50': to_ms(at(values, 50)), 'p99': to_ms(at(values, 99)),
            'p999': to_ms(at(values, 99.9)), 'max': to_ms(values[-1])}


def spectrum_ms(samples_ns, points):
    if not samples_ns:
        return []
    values = sorted(samples_ns)
    return [[p, to_ms(at(values, p))] for p in points]


def window_percentiles_ms(windows):
    """librdkafka's rtt windows (µs) as one set: each percentile the count-weighted mean of the
    windows' (an approximation: percentiles do not add up), and the largest maximum. librdkafka
    keeps p99.99, not p99.9: the p999 field holds the p99.99, the higher of the two."""
    count = sum(window['cnt'] for window in windows)

    def mean(key):
        return round(sum(window[key] * window['cnt'] for window in windows) / count / 1e3, 3)
    return {'p50': mean('p50'), 'p99': mean('p99'), 'p999': mean('p99_99'),
            'max': round(max(window['max'] for window in windows) / 1e3, 3)}


def debug_report(url, reset):
    """DELETE starts the broker's window, GET reads it; None if the broker does not serve it."""
    request = urllib.request.Request(url, method='DELETE' if reset else 'GET')
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            return None if reset or not body else json.loads(body)
    except Exception:  # noqa: BLE001 - a broker without /debug/latency is not an error
        return None


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.offered = self.skipped = self.failed = self.acknowledged = self.received = 0
        self.first_error = None
        self.produce = []
        self.end_to_end = []


def end_offsets(consumer, topic, partitions):
    ends = {}
    for partition in range(partitions):
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        ends[partition] = high
    return ends


def consume(consumer, origin, measured_from, tally, stop):
    while not stop.is_set():
        # consume() waits for all num_messages or its timeout, so a poll() waits for the first
        # record and a consume() with no timeout takes whatever else is already queued.
        first = consumer.poll(timeout=0.1)
        if first is None:
            continue
        messages = [first] + consumer.consume(num_messages=10000, timeout=0)
        arrived = time.monotonic_ns() - origin
        counted = []
        for message in messages:
            error = message.error()
            if error is not None:
                raise KafkaException(error)
            stamp = STAMP.unpack_from(message.value())[0]
            if stamp >= measured_from:
                counted.append(arrived - stamp)
        if counted:
            with tally.lock:
                tally.end_to_end.extend(counted)
                tally.received += len(counted)


def measure(options):
    acks = {-1: 'all', 0: '0', 1: '1'}[options.acks]
    batch_sizes = []
    round_trips = []
    measured_from = int(options.warmup * 1e9)
    deadline = int((options.warmup + options.duration) * 1e9)

    def statistics(stats_json):
        # librdkafka's window statistics (one per statistics.interval.ms): records per produced
        # batch, and the producer's request round trips to each broker (its rtt, microseconds),
        # which leave out a record's wait in its batch (linger.ms) and this script's Python.
        stats = json.loads(stats_json)
        elapsed = time.monotonic_ns() - origin
        if elapsed < measured_from + 1e9 or elapsed > deadline:
            return  # a window that began before the measured one or ended after it
        topic = stats.get('topics', {}).get(options.topic)
        if topic is not None and topic.get('batchcnt', {}).get('cnt', 0) > 0:
            batch_sizes.append(topic['batchcnt']['avg'])
        for broker in stats.get('brokers', {}).values():
            rtt = broker.get('rtt', {})
            if broker.get('nodeid', -1) >= 0 and rtt.get('cnt', 0) > 0:
                round_trips.append(rtt)
    producer = Producer({
        'statistics.interval.ms': 1000, 'stats_cb': statistics,
        'bootstrap.servers': options.bootstrap, 'client.id': 'librdkafka-latency-producer',
        'linger.ms': options.linger_ms, 'batch.size': options.batch_bytes, 'acks': acks,
        'enable.idempotence': False, 'compression.type': 'none',
        'max.in.flight.requests.per.connection': options.inflight,
        'queue.buffering.max.messages': options.max_buffered,
        'message.timeout.ms': 30000})
    consumer = Consumer({
        'bootstrap.servers': options.bootstrap, 'client.id': 'librdkafka-latency-consumer',
        'group.id': 'librdkafka-latency', 'enable.auto.commit': False,
        'fetch.wait.max.ms': 100, 'fetch.min.bytes': 1})
    origin = time.monotonic_ns()
    tally = Tally()
    # The consumer starts at the end offsets listed before the first send.
    ends = end_offsets(consumer, options.topic, options.partitions)
    consumer.assign([TopicPartition(options.topic, p, o) for p, o in ends.items()])
    stop = threading.Event()
    failure = []

    def reading():
        try:
            consume(consumer, origin, measured_from, tally, stop)
        except Exception as error:  # noqa: BLE001 - reported with the run
            failure.append(error)
    reader = threading.Thread(target=reading, daemon=True)
    reader.start()
    time.sleep(0.2)

    filler = bytes(i % 251 for i in range(options.message_size - 8))
    interval_ns = 1e9 / options.rate
    due = 0
    max_lateness = 0
    window_started = False
    cpu_before = 0.0

    def delivered(error, _message, stamp, in_window):
        latency = time.monotonic_ns() - origin - stamp
        if not in_window:
            return
        with tally.lock:
            if error is not None:
                tally.failed += 1
                tally.first_error = tally.first_error or str(error)
            else:
                tally.acknowledged += 1
                tally.produce.append(latency)

    gc.disable()
    while True:
        now = time.monotonic_ns() - origin
        if now >= deadline:
            break
        measuring = now >= measured_from
        if measuring and not window_started:
            window_started = True
            cpu_before = cpu_seconds()
            if options.debug_url:
                threading.Thread(target=debug_report, args=(options.debug_url, True),
                                 daemon=True).start()
        due_now = int(now / interval_ns)
        if due_now > due and measuring:
            max_lateness = max(max_lateness, now - due * interval_ns)
        while due < due_now:
            stamp = time.monotonic_ns() - origin
            in_window = stamp >= measured_from
            if in_window:
                tally.offered += 1
            def report(error, message, stamp=stamp, in_window=in_window):
                delivered(error, message, stamp, in_window)
            try:
                producer.produce(options.topic, STAMP.pack(stamp) + filler,
                                 partition=due % options.partitions, on_delivery=report)
            except BufferError:
                if in_window:
                    tally.skipped += 1
            due += 1
        producer.poll(0)
        next_due = (due + 1) * interval_ns
        time.sleep(max(next_due - (time.monotonic_ns() - origin), 1e6) / 1e9)
    measured_seconds = (time.monotonic_ns() - origin - measured_from) / 1e9
    cpu_used = cpu_seconds() - cpu_before
    broker = debug_report(options.debug_url, False) if options.debug_url else None
    producer.flush(30)
    drain_until = time.monotonic() + options.drain_ms / 1000
    while time.monotonic() < drain_until:
        with tally.lock:
            if tally.received >= tally.acknowledged:
                break
        time.sleep(0.02)
    stop.set()
    reader.join(timeout=10)
    consumer.close()
    gc.enable()
    if failure:
        raise failure[0]

    points = [float(p) for p in options.percentiles.split(',')]
    expected = 0.95 * options.rate * measured_seconds
    with tally.lock:
        result = {
            'client': 'librdkafka',
            'partitioner': 'round-robin per record (explicit partition)',
            'targetRate': options.rate,
            'achievedRate': tally.acknowledged / measured_seconds,
            'recordsPerBatch': round(sum(batch_sizes) / len(batch_sizes), 1) if batch_sizes else 0,
            'sent': tally.offered - tally.skipped,
            'acknowledged': tally.acknowledged,
            'failed': tally.failed,
            'skipped': tally.skipped,
            'received': tally.received,
            'saturated': tally.skipped > 0 or tally.failed > 0 or tally.acknowledged < expected
            or tally.offered < expected,
            'maxScheduleLagMs': round(max_lateness / 1e6, 3),
            'produceLatencyMs': percentiles_ms(tally.produce),
            **({'produceRequestMs': window_percentiles_ms(round_trips)} if round_trips else {}),
            'endToEndLatencyMs': percentiles_ms(tally.end_to_end),
            'spectrum': {'produce': spectrum_ms(tally.produce, points),
                         'endToEnd': spectrum_ms(tally.end_to_end, points)},
            'generatorCpuSeconds': round(cpu_used, 2),
        }
        if tally.first_error:
            result['firstError'] = tally.first_error
    if broker is not None:
        result['broker'] = broker
    return result


def main():
    options = parse_options(sys.argv[1:])
    emit({'scenario': 'client', 'step': 'versions', 'ok': True,
          'version': f'confluent-kafka {confluent_kafka.__version__}, '
                     f'librdkafka {confluent_kafka.libversion()[0]}'})
    line = {'scenario': 'latency', 'step': 'run'}
    try:
        line.update(measure(options))
        line['ok'] = True
    except Exception as error:  # noqa: BLE001 - reported as the run's line
        line['ok'] = False
        line['error'] = f'{type(error).__name__}: {error}'
    emit(line)


if __name__ == '__main__':
    main()
