#!/usr/bin/env python3
# Sends IPv4/UDP frames with any source address out of an interface, as a hostile guest can: Ethernet, IP and UDP headers written by hand.
# argv: interface, destination MAC. stdin: one "SRC DST SPORT DPORT COUNT [dns]" per line ("dns": a DNS query instead of "forged").
import socket
import struct
import sys

def checksum(data):
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    total += total >> 16
    return ~total & 0xffff

def dns_query():
    question = b''.join(bytes([len(p)]) + p.encode() for p in 'xen.internal'.split('.')) + b'\0'
    return struct.pack('!HHHHHH', 0x5eed, 0x0100, 1, 0, 0, 0) + question + struct.pack('!HH', 1, 1)

def frame(src_mac, dst_mac, src, dst, sport, dport, payload):
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload  # UDP checksum 0: none (valid for IPv4)
    header = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0x4242, 0, 64, socket.IPPROTO_UDP, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack('!H', checksum(header)) + header[12:]
    return dst_mac + src_mac + struct.pack('!H', 0x0800) + header + udp

interface, dst_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((interface, 0))
src_mac = sock.getsockname()[4]
sent = 0
for line in sys.stdin:
    fields = line.split()
    if not fields:
        continue
    src, dst, sport, dport, count = fields[0], fields[1], int(fields[2]), int(fields[3]), int(fields[4])
    payload = dns_query() if fields[5:] == ['dns'] else b'forged'
    for _ in range(count):
        sock.send(frame(src_mac, dst_mac, src, dst, sport, dport, payload))
        sent += 1
print('sent', sent)
