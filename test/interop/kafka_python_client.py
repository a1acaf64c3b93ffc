"""kafka-python 2.0 against a Tributary broker, driven by test/interop/kafka-python.test.ts.

Usage: kafka_python_client.py BOOTSTRAP TOPIC COUNT. It creates TOPIC (3 partitions) with the
admin client, produces COUNT keyed records with a header (gzip, acks=all), reads them back in
a consumer group and commits, produces 10 more, and reads again in the same group, which must
resume from the committed offsets. It prints one JSON object with what it saw; the test makes
the assertions. Any exception exits non-zero with its traceback.
"""
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

GROUP = 'interop-kafka-python'
DEADLINE_S = 60


def produce(bootstrap, topic, values):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', compression_type='gzip',
                             linger_ms=5, client_id='interop-producer')
    futures = [producer.send(topic, key=b'key-%d' % (i % 17), value=value.encode(),
                             headers=[('n', str(i).encode())])
               for i, value in enumerate(values)]
    producer.flush()
    acks = [{'value': value, 'partition': meta.partition, 'offset': meta.offset}
            for value, meta in zip(values, (f.get(timeout=30) for f in futures))]
    api_version = list(producer.config['api_version'])
    producer.close()
    return acks, api_version


def consume(bootstrap, topic, count):
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=GROUP,
                             auto_offset_reset='earliest', enable_auto_commit=False,
                             client_id='interop-consumer')
    records = []
    deadline = time.time() + DEADLINE_S
    while len(records) < count and time.time() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    consumer.commit()
    consumer.close()
    return [{'value': r.value.decode(), 'key': r.key.decode(), 'partition': r.partition,
             'offset': r.offset, 'headers': [[k, v.decode()] for k, v in r.headers]}
            for r in records]


def main(bootstrap, topic, count):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='interop-admin')
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    topics = sorted(admin.list_topics())
    acks, api_version = produce(bootstrap, topic, ['value-%d' % i for i in range(count)])
    first = consume(bootstrap, topic, count)
    late_acks, _ = produce(bootstrap, topic, ['late-%d' % i for i in range(10)])
    second = consume(bootstrap, topic, 10)
    groups = [list(group) for group in admin.list_consumer_groups()]
    admin.close()
    print(json.dumps({'apiVersion': api_version, 'topics': topics, 'acks': acks,
                      'first': first, 'lateAcks': late_acks, 'second': second,
                      'groups': groups}))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
