// The "outside world" of a test network: answers each TCP connection with the address it came from. Usage: node echo-peer.cjs <ip> <port>
require('net').createServer((s) => s.end(`${s.remoteAddress}\n`)).listen(Number(process.argv[3]), process.argv[2], () => console.log('listening'));
