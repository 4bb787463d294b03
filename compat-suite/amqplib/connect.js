'use strict';
// Smoke scenario for amqplib: connect to AMQP_URL, open a channel, close both, exit 0.
// Any failure (or a hang past the deadline) exits non-zero with the reason on stderr.
const amqp = require('amqplib');

const url = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672/';
const deadlineMs = 15000;

async function main() {
  const connection = await amqp.connect(url, { clientProperties: { connection_name: 'compat-amqplib' } });
  let closedByUs = false;
  connection.on('error', (err) => {
    console.error(`connection error: ${err.message}`);
    process.exitCode = 1;
  });
  connection.on('close', (err) => {
    if (!closedByUs) {
      console.error(`connection closed unexpectedly${err ? `: ${err.message}` : ''}`);
      process.exitCode = 1;
    }
  });

  const channel = await connection.createChannel();
  await channel.close();
  closedByUs = true;
  await connection.close();
  console.log(`amqplib connect/channel/close ok against ${new URL(url).host}`);
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
