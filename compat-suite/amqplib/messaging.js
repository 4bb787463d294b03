'use strict';
// Messaging scenario for amqplib: a confirm channel publishes through a topic exchange, a consumer with
// prefetch 2 receives in order, nacks one with requeue and gets it back flagged redelivered, then acks
// everything; exits 0 only if every check holds. Same script against RabbitMQ and the gateway.
const amqp = require('amqplib');
const assert = require('assert');

const url = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672/';
const deadlineMs = 20000;

async function main() {
  const connection = await amqp.connect(url, { clientProperties: { connection_name: 'compat-amqplib-messaging' } });
  try {
    const channel = await connection.createConfirmChannel();
    const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
    const exchange = `compat-amqplib-x-${suffix}`;
    const queue = `compat-amqplib-q-${suffix}`;
    await channel.assertExchange(exchange, 'topic', { durable: false });
    const declared = await channel.assertQueue(queue, { durable: false });
    assert.strictEqual(declared.messageCount, 0);
    await channel.bindQueue(queue, exchange, 'orders.*');

    for (let i = 0; i < 4; i++) {
      channel.publish(exchange, i === 3 ? 'invoices.x' : 'orders.new', Buffer.from(`m${i}`), { messageId: `id${i}`, headers: { n: i } });
    }
    await channel.waitForConfirms();
    assert.strictEqual((await channel.checkQueue(queue)).messageCount, 3);

    await channel.prefetch(2);
    const seen = [];
    await new Promise((resolve, reject) => {
      let nacked = false;
      channel.consume(queue, (msg) => {
        try {
          const body = msg.content.toString();
          seen.push(`${body}${msg.fields.redelivered ? '*' : ''}`);
          assert.strictEqual(msg.properties.headers.n, Number(body.slice(1)));
          if (body === 'm0' && !nacked) {
            nacked = true;
            channel.nack(msg, false, true);
            return;
          }
          channel.ack(msg);
          if (seen.filter((s) => !s.startsWith('m0') || s.endsWith('*')).length === 3) resolve();
        } catch (err) {
          reject(err);
        }
      });
    });
    assert.deepStrictEqual(seen.slice(0, 1), ['m0']);
    assert.ok(seen.includes('m0*'), `m0 came back redelivered: ${seen}`);
    assert.ok(seen.includes('m1') && seen.includes('m2'), `m1 and m2 delivered: ${seen}`);
    await channel.deleteQueue(queue);
    await channel.deleteExchange(exchange);
    await channel.close();
    console.log(`amqplib messaging ok against ${new URL(url).host}: ${seen.join(' ')}`);
  } finally {
    await connection.close();
  }
}

const timer = setTimeout(() => {
  console.error(`timed out after ${deadlineMs} ms`);
  process.exit(2);
}, deadlineMs);

main()
  .catch((err) => {
    console.error(`failed: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(timer));
