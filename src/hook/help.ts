// --help text of the vif hotplug script.
export const HOOK_HELP = `vif-nat-dns: Xen vif hotplug script (routed NAT, stable addresses, dnsmasq DHCP/DNS)

Usage (run by the toolstack, not by hand):
  vif-nat-dns online|offline [type_if=vif]      PV vif (xl; xend passes no type_if)
  vif-nat-dns add|remove type_if=tap            emulated NIC of an HVM guest (INTERFACE=vif<D>.<N>-emu)

Environment (set by xl/libxl or xend):
  XENBUS_PATH   backend/vif/<domid>/<devid> (xl, relative to /local/domain/0) or absolute (xend)   required
  vif           the backend device, vif<domid>.<devid>                                          required for type_if=vif
  INTERFACE     the emulated NIC's tap device                                                    required for type_if=tap
  netdev        uplink for MASQUERADE (may be empty: NETDEV from the config, else the default route)
  XENSTORED_PATH  xenstored's socket (default /run/xenstored/socket, then /dev/xen/xenbus)
  VIF_NAT_DNS_CONFIG  config file (default /etc/xen/vif-nat-dns.conf); VIF_NAT_DNS_<KEY> overrides a key

online: hostname from the domain name (2nd vif: <name>-2 ...), address from /etc/hosts or the lowest free
  machine number (10.<machine>.<y>, dom0 side y|128), "MAC IP" in /etc/ethers, SIGHUP dnsmasq, anti-spoofing,
  address + host route + device group + proxy ARP on the vif (no IPv6), IPv4 forwarding, MASQUERADE; writes
  hotplug-status=connected. Anti-spoofing: after network-nat-dns start (KERNEL_ANTISPOOF=yes), a new PV vif
  gets no chain and no iptables run: VND-ANTISPOOF's shared rpfilter rule (raw, before conntrack) and
  rp_filter=1 on the vif drop sources not routed back through it; a repeated online keeps what the vif has;
  otherwise (an emulated NIC, a migration's receiving vif, all.rp_filter=2, a sysctl line that would reset
  new vifs' rp_filter, KERNEL_ANTISPOOF=no, no boot step) its own chain VND-SRC-<vif> (raw) and the shared
  chains VND-ANTISPOOF/VND-FORWARD/VND-INPUT if missing.
offline: takes the vif down; removes its route, address, device group, proxy ARP, anti-spoofing chain (if it
  has one) and /etc/ethers line; /etc/hosts keeps the name's address.

Exit status: 0 success (and always for offline/remove); 1 failure (hotplug-error and hotplug-status=error
written to xenstore); 2 usage error.
`;
