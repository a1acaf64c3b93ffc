#!/usr/bin/env python3
"""Drives confluent-kafka (Python, on librdkafka) against a Kafka broker and prints one JSON
object per line: {"scenario": ..., "step": ..., "ok": true, ...} or {"ok": false, "error": ...}.
test/interop/confluent-kafka.test.ts runs it and checks every line.

Usage: confluent_kafka_client.py <bootstrap> <scenario>...
Scenarios: produce:<codec>, group, admin, txn. Each step reports its own failure, so one broken
step does not hide the others.
"""
import json
import sys
import threading
import time
import traceback

import confluent_kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   ConfigSource, NewTopic, OffsetSpec, ResourceType)

RECORDS = 2000
PHASE_RECORDS = 1500
PHASE_TIMEOUT_S = 45
GROUP_TOPIC = 'py-group'
GROUP_ID = 'py-group'
ADMIN_TOPIC_A = 'py-admin-a'
ADMIN_TOPIC_B = 'py-admin-b'
TIMEOUT_S = 15

_emit_lock = threading.Lock()


def emit(line):
    with _emit_lock:
        print(json.dumps(line), flush=True)


def step(scenario, name, body):
    """Runs one step and emits its line: the step's own fields, or the error."""
    line = {'scenario': scenario, 'step': name}
    try:
        line.update(body())
        line['ok'] = True
    except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
        line['ok'] = False
        line['error'] = f'{type(error).__name__}: {error}'
        if isinstance(error, (TypeError, AttributeError, KeyError)):
            line['error'] += '\n' + traceback.format_exc()
    emit(line)


def record_value(codec, i):
    return f'{codec}-value-{i}-' + 'abcdefgh' * (i % 13)


def producer_config(bootstrap, client_id, codec):
    # Idempotence is on by request (librdkafka's default is off); it implies acks=all.
    return {'bootstrap.servers': bootstrap, 'client.id': client_id,
            'enable.idempotence': True, 'compression.type': codec, 'linger.ms': 5,
            'message.timeout.ms': 30000}


def consumer_config(bootstrap, client_id, group_id):
    return {'bootstrap.servers': bootstrap, 'client.id': client_id, 'group.id': group_id,
            'enable.auto.commit': False, 'auto.offset.reset': 'earliest'}


# ---- produce:<codec> ------------------------------------------------------------------------

def run_produce(bootstrap, codec):
    """An idempotent producer with one codec writes RECORDS keyed records with a header into
    py-<codec> (created beforehand with 3 partitions); a consumer assigned every partition reads
    them back from the start."""
    scenario = f'produce:{codec}'
    topic = f'py-{codec}'
    step(scenario, 'produce', lambda: produce(bootstrap, codec, topic))
    step(scenario, 'consume', lambda: read_back(bootstrap, codec, topic))


def produce(bootstrap, codec, topic):
    acks = [None] * RECORDS
    errors = []

    def delivered(index):
        def callback(error, message):
            if error is not None:
                errors.append(str(error))
            else:
                acks[index] = [message.partition(), message.offset()]
        return callback

    producer = Producer(producer_config(bootstrap, f'py-producer-{codec}', codec))
    for i in range(RECORDS):
        producer.produce(topic, key=f'key-{i % 17}', value=record_value(codec, i),
                         headers=[('n', str(i).encode())], on_delivery=delivered(i))
        producer.poll(0)
    remaining = producer.flush(45)
    if remaining or errors:
        raise RuntimeError(f'{remaining} undelivered; errors: {errors[:3]}')
    return {'acks': acks}


def read_back(bootstrap, codec, topic):
    consumer = Consumer(consumer_config(bootstrap, f'py-reader-{codec}', f'py-reader-{codec}'))
    try:
        consumer.assign([TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING)
                         for p in range(3)])
        read = []
        deadline = time.monotonic() + 30
        while len(read) < RECORDS and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=500, timeout=0.2):
                if message.error() is not None:
                    raise KafkaException(message.error())
                header = dict(message.headers() or []).get('n', b'').decode()
                read.append([message.partition(), message.offset(), message.key().decode(),
                             message.value().decode(), header])
        return {'records': read}
    finally:
        consumer.close()


# ---- group ----------------------------------------------------------------------------------

class GroupRun:
    """A consumer group of three members on py-group (created beforehand with 6 partitions),
    each in its own thread, committing synchronously after every consume() call, before the
    next one (where librdkafka runs rebalance callbacks), so no record reaches two members."""

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self.lock = threading.Lock()
        self.consumed = []
        self.assignments = {}
        self.errors = {}
        self.stop = {1: threading.Event(), 2: threading.Event(), 3: threading.Event()}

    def consume_as(self, member):
        try:
            consumer = Consumer(consumer_config(self.bootstrap, f'py-consumer-{member}', GROUP_ID))
            consumer.subscribe([GROUP_TOPIC])
            while not self.stop[member].is_set():
                messages = consumer.consume(num_messages=200, timeout=0.1)
                batch = []
                for message in messages:
                    if message.error() is not None:
                        raise KafkaException(message.error())
                    batch.append([message.partition(), message.offset(), member])
                if batch:
                    consumer.commit(asynchronous=False)
                with self.lock:
                    self.consumed.extend(batch)
                    self.assignments[member] = sorted(tp.partition for tp in consumer.assignment())
            consumer.close()
        except Exception as error:  # noqa: BLE001
            with self.lock:
                self.errors[str(member)] = f'{type(error).__name__}: {error}'

    def await_phase(self, total, members, each):
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while True:
            with self.lock:
                done = len(self.consumed) >= total and all(
                    len(self.assignments.get(m, [])) == each for m in members)
                if done:
                    return {'assignments': {str(m): p for m, p in self.assignments.items()}}
                if time.monotonic() > deadline:
                    raise RuntimeError(f'consumed {len(self.consumed)} of {total}, assignments '
                                       f'{self.assignments}, member errors {self.errors}')
            time.sleep(0.05)


def produce_group_records(bootstrap, start):
    producer = Producer(producer_config(bootstrap, 'py-group-producer', 'none'))
    for i in range(start, start + PHASE_RECORDS):
        producer.produce(GROUP_TOPIC, key=f'key-{i}', value=f'group-value-{i}')
        producer.poll(0)
    if producer.flush(30):
        raise RuntimeError('group records not delivered')


def run_group(bootstrap):
    run = GroupRun(bootstrap)
    threads = {m: threading.Thread(target=run.consume_as, args=(m,), daemon=True)
               for m in (1, 2, 3)}
    for thread in threads.values():
        thread.start()

    def three_members():
        produce_group_records(bootstrap, 0)
        return run.await_phase(PHASE_RECORDS, [1, 2, 3], 2)

    def member_leaves():
        run.stop[3].set()
        threads[3].join(PHASE_TIMEOUT_S)
        if threads[3].is_alive():
            raise RuntimeError('member 3 did not close')
        with run.lock:
            run.assignments.pop(3, None)
        produce_group_records(bootstrap, PHASE_RECORDS)
        return run.await_phase(2 * PHASE_RECORDS, [1, 2], 3)

    step('group', 'three-members', three_members)
    step('group', 'member-leaves', member_leaves)
    for member in (1, 2, 3):
        run.stop[member].set()
    for thread in threads.values():
        thread.join(PHASE_TIMEOUT_S)
    step('group', 'consumed', lambda: {'records': run.consumed, 'memberErrors': run.errors})


# ---- admin ----------------------------------------------------------------------------------

def result(futures):
    """The single result of a dict of futures (the admin API's return shape)."""
    values = [future.result(TIMEOUT_S) for future in futures.values()]
    return values[0] if len(values) == 1 else values


def run_admin(bootstrap):
    admin = AdminClient({'bootstrap.servers': bootstrap, 'client.id': 'py-admin'})
    topic_a = ConfigResource(ResourceType.TOPIC, ADMIN_TOPIC_A)

    def describe_cluster():
        cluster = admin.describe_cluster(request_timeout=TIMEOUT_S).result(TIMEOUT_S)
        return {'clusterId': cluster.cluster_id, 'controller': cluster.controller.id,
                'nodes': [{'id': n.id, 'host': n.host, 'port': n.port} for n in cluster.nodes]}

    def create_topics():
        for future in admin.create_topics([
                NewTopic(ADMIN_TOPIC_A, num_partitions=3, replication_factor=1,
                         config={'retention.ms': '3600000'}),
                NewTopic(ADMIN_TOPIC_B, num_partitions=1, replication_factor=1)]).values():
            future.result(TIMEOUT_S)
        return {}

    def describe_topics():
        described = result(admin.describe_topics(
            confluent_kafka.TopicCollection([ADMIN_TOPIC_A]), request_timeout=TIMEOUT_S))
        return {'internal': described.is_internal, 'topicId': str(described.topic_id),
                'partitions': [{'partition': p.id, 'leader': p.leader.id if p.leader else -1,
                                'replicas': len(p.replicas), 'isr': len(p.isr)}
                               for p in described.partitions]}

    def describe_configs():
        entries = result(admin.describe_configs([topic_a]))
        return {'entries': {name: {'value': entry.value,
                                   'source': ConfigSource(entry.source).name}
                            for name, entry in entries.items()}}

    def alter_configs():
        result(admin.incremental_alter_configs([ConfigResource(
            ResourceType.TOPIC, ADMIN_TOPIC_A, incremental_configs=[ConfigEntry(
                'retention.ms', '7200000', incremental_operation=AlterConfigOpType.SET)])]))
        return describe_configs()

    def list_offsets():
        out = {}
        for name, spec in (('earliest', OffsetSpec.earliest()), ('latest', OffsetSpec.latest()),
                           ('maxTimestamp', OffsetSpec.max_timestamp())):
            try:
                listed = admin.list_offsets({TopicPartition(GROUP_TOPIC, 0): spec},
                                            request_timeout=TIMEOUT_S)
                info = result(listed)
                out[name] = {'offset': info.offset, 'timestamp': info.timestamp}
            except Exception as error:  # noqa: BLE001
                out[name] = {'error': f'{type(error).__name__}: {error}'}
        return out

    def delete_records():
        producer = Producer(producer_config(bootstrap, 'py-admin-producer', 'none'))
        for i in range(30):
            producer.produce(ADMIN_TOPIC_A, value=f'v{i}', partition=0)
        if producer.flush(30):
            raise RuntimeError('records not delivered')
        deleted = result(admin.delete_records([TopicPartition(ADMIN_TOPIC_A, 0, 10)],
                                              request_timeout=TIMEOUT_S))
        return {'lowWatermark': deleted.low_watermark}

    def groups():
        listed = admin.list_consumer_groups(request_timeout=TIMEOUT_S).result(TIMEOUT_S)
        described = result(admin.describe_consumer_groups([GROUP_ID],
                                                           request_timeout=TIMEOUT_S))
        return {'listed': [{'groupId': g.group_id, 'state': g.state.name,
                            'type': getattr(getattr(g, 'type', None), 'name', None)}
                           for g in listed.valid],
                'state': described.state.name, 'members': len(described.members),
                'coordinator': described.coordinator.id}

    def delete_topics():
        result(admin.delete_topics([ADMIN_TOPIC_B], request_timeout=TIMEOUT_S))
        # Kafka's brokers apply metadata asynchronously: list until the topic is gone.
        deadline = time.monotonic() + 10
        listings = 0
        while True:
            listings += 1
            names = sorted(admin.list_topics(timeout=TIMEOUT_S).topics)
            if ADMIN_TOPIC_B not in names or time.monotonic() > deadline:
                return {'names': names, 'listings': listings}
            time.sleep(0.1)

    step('admin', 'describeCluster', describe_cluster)
    step('admin', 'createTopics', create_topics)
    step('admin', 'listTopics',
         lambda: {'names': sorted(admin.list_topics(timeout=TIMEOUT_S).topics)})
    step('admin', 'describeTopics', describe_topics)
    step('admin', 'describeTopicConfigs', describe_configs)
    step('admin', 'incrementalAlterConfigs', alter_configs)
    step('admin', 'listOffsets', list_offsets)
    step('admin', 'deleteRecords', delete_records)
    step('admin', 'groups', groups)
    step('admin', 'deleteTopics', delete_topics)


# ---- txn --------------------------------------------------------------------------------------

TXN_TOPIC = 'py-txn'
TXN_IN = 'py-txn-in'
TXN_OUT = 'py-txn-out'
TXN_GROUP = 'py-txn-ctp'
TXN_COMMITTED = 10
TXN_ABORTED = 5
TXN_IN_RECORDS = 40


def transactional_config(bootstrap, client_id, transactional_id, **extra):
    return {'bootstrap.servers': bootstrap, 'client.id': client_id,
            'transactional.id': transactional_id, 'linger.ms': 5,
            'message.timeout.ms': 30000, **extra}


def kafka_error_name(error):
    """The KafkaError code's name of a KafkaException (for example PRODUCER_FENCED)."""
    if isinstance(error, KafkaException) and error.args:
        return error.args[0].name()
    return type(error).__name__


def read_all(bootstrap, topic, isolation):
    """Every value in both partitions of `topic`, sorted, up to the end offsets the isolation
    level allows (the last stable offset for read_committed)."""
    consumer = Consumer({**consumer_config(bootstrap, 'py-txn-reader', 'py-txn-reader'),
                         'isolation.level': isolation, 'enable.partition.eof': True})
    values = []
    try:
        partitions = [TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING) for p in (0, 1)]
        consumer.assign(partitions)
        at_end = set()
        deadline = time.monotonic() + 30
        while len(at_end) < 2:
            if time.monotonic() > deadline:
                raise TimeoutError(f'read {len(values)} values of {topic}')
            message = consumer.poll(0.2)
            if message is None:
                continue
            if message.error():
                if message.error().code() == confluent_kafka.KafkaError._PARTITION_EOF:
                    at_end.add(message.partition())
                    continue
                raise KafkaException(message.error())
            values.append(message.value().decode())
    finally:
        consumer.close()
    return sorted(values)


def run_txn(bootstrap):
    """Transactions (KIP-98) on py-txn, py-txn-in and py-txn-out (2 partitions each, created
    beforehand): commit, abort, a fenced zombie, a timeout abort, read_committed and
    read_uncommitted readers, and consume-transform-produce with send_offsets_to_transaction."""
    first = Producer(transactional_config(bootstrap, 'py-txn-first', 'py-txn-id'))

    def commit():
        first.init_transactions(TIMEOUT_S)
        first.begin_transaction()
        for i in range(TXN_COMMITTED):
            first.produce(TXN_TOPIC, f'committed-{i}'.encode(), f'k{i}'.encode(), partition=i % 2)
        first.commit_transaction(TIMEOUT_S)
        return {'committed': TXN_COMMITTED}

    def abort():
        first.begin_transaction()
        for i in range(TXN_ABORTED):
            first.produce(TXN_TOPIC, f'aborted-{i}'.encode(), f'k{i}'.encode(), partition=i % 2)
        first.flush(TIMEOUT_S)
        first.abort_transaction(TIMEOUT_S)
        return {'aborted': TXN_ABORTED}

    def fence():
        second = Producer(transactional_config(bootstrap, 'py-txn-second', 'py-txn-id'))
        second.init_transactions(TIMEOUT_S)
        zombie_error = None
        try:
            first.begin_transaction()
            first.produce(TXN_TOPIC, b'zombie', b'zombie', partition=0)
            first.commit_transaction(TIMEOUT_S)
        except KafkaException as error:
            zombie_error = kafka_error_name(error)
        second.begin_transaction()
        second.produce(TXN_TOPIC, b'second', b'k', partition=1)
        second.commit_transaction(TIMEOUT_S)
        second.flush(TIMEOUT_S)
        return {'zombieError': zombie_error}

    step('txn', 'commit', commit)
    step('txn', 'abort', abort)
    step('txn', 'fence', fence)
    step('txn', 'timeout', lambda: txn_timeout(bootstrap))
    step('txn', 'read-committed', lambda: {'values': read_all(bootstrap, TXN_TOPIC,
                                                              'read_committed')})
    step('txn', 'read-uncommitted', lambda: {'values': read_all(bootstrap, TXN_TOPIC,
                                                                'read_uncommitted')})
    step('txn', 'ctp', lambda: consume_transform_produce(bootstrap))


def txn_timeout(bootstrap):
    """A transaction left open past transaction.timeout.ms is aborted by the coordinator."""
    producer = Producer(transactional_config(bootstrap, 'py-txn-timeout', 'py-txn-timeout-id',
                                             **{'transaction.timeout.ms': 1000,
                                                # librdkafka requires it <= the txn timeout
                                                'message.timeout.ms': 1000}))
    producer.init_transactions(TIMEOUT_S)
    producer.begin_transaction()
    producer.produce(TXN_TOPIC, b'timed-out', b'late', partition=0)
    producer.flush(TIMEOUT_S)
    time.sleep(3)
    commit_error = None
    try:
        producer.commit_transaction(TIMEOUT_S)
    except KafkaException as error:
        commit_error = kafka_error_name(error)
    return {'commitError': commit_error}


def consume_transform_produce(bootstrap):
    """Copies py-txn-in to py-txn-out upper-cased, the group's offsets in each transaction."""
    plain = Producer(producer_config(bootstrap, 'py-txn-input', 'none'))
    for i in range(TXN_IN_RECORDS):
        plain.produce(TXN_IN, f'input-{i}'.encode(), f'k{i}'.encode(), partition=i % 2)
    if plain.flush(30):
        raise TimeoutError('input not delivered')
    consumer = Consumer({**consumer_config(bootstrap, 'py-txn-ctp-consumer', TXN_GROUP),
                         'isolation.level': 'read_committed'})
    producer = Producer(transactional_config(bootstrap, 'py-txn-ctp-producer', 'py-txn-ctp-id'))
    copied = transactions = 0
    try:
        producer.init_transactions(TIMEOUT_S)
        consumer.subscribe([TXN_IN])
        deadline = time.monotonic() + 30
        while copied < TXN_IN_RECORDS:
            if time.monotonic() > deadline:
                raise TimeoutError(f'copied {copied}')
            messages = [m for m in consumer.consume(100, 0.2) if m.error() is None]
            if not messages:
                continue
            producer.begin_transaction()
            offsets = {}
            for message in messages:
                producer.produce(TXN_OUT, message.value().decode().upper().encode(),
                                 message.key(), partition=message.partition())
                offsets[message.partition()] = message.offset() + 1
            producer.send_offsets_to_transaction(
                [TopicPartition(TXN_IN, p, o) for p, o in offsets.items()],
                consumer.consumer_group_metadata(), TIMEOUT_S)
            producer.commit_transaction(TIMEOUT_S)
            copied += len(messages)
            transactions += 1
        committed = consumer.committed([TopicPartition(TXN_IN, p) for p in (0, 1)], TIMEOUT_S)
    finally:
        consumer.close()
    return {'copied': copied, 'transactions': transactions,
            'committed': {str(tp.partition): tp.offset for tp in committed},
            'output': read_all(bootstrap, TXN_OUT, 'read_committed')}


def main():
    bootstrap = sys.argv[1]
    emit({'scenario': 'client', 'step': 'versions', 'ok': True,
          'confluentKafka': confluent_kafka.__version__,
          'librdkafka': confluent_kafka.libversion()[0]})
    for scenario in sys.argv[2:]:
        if scenario.startswith('produce:'):
            run_produce(bootstrap, scenario[len('produce:'):])
        elif scenario == 'group':
            run_group(bootstrap)
        elif scenario == 'admin':
            run_admin(bootstrap)
        elif scenario == 'txn':
            run_txn(bootstrap)
        else:
            emit({'scenario': scenario, 'step': 'start', 'ok': False,
                  'error': 'unknown scenario'})


if __name__ == '__main__':
    main()
