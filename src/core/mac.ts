// MAC address text: strict parsing for what we accept from xenstore, lenient normalisation for what /etc/ethers holds.
import { VifError } from './errors';

const STRICT = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const LENIENT = /^[0-9a-fA-F]{1,2}([:-][0-9a-fA-F]{1,2}){5}$/;

/** Normalise any ethers(5)-style MAC ("8:0:20:1:2:3", "08-00-…") to lowercase aa:bb:cc:dd:ee:ff, or undefined. */
export function normalizeMac(text: string): string | undefined {
  if (!LENIENT.test(text)) return undefined;
  return text.split(/[:-]/).map((part) => part.padStart(2, '0').toLowerCase()).join(':');
}

/** A guest's MAC from the backend's `mac` node: six colon-separated octets, unicast, not all-zero. */
export function parseGuestMac(text: string | undefined): string {
  const shown = JSON.stringify((text ?? '').slice(0, 40));
  if (text === undefined || text === '') {
    throw new VifError('BAD_MAC', 'the vif has no MAC address in xenstore', 'set mac= on the vif in the domain config', {});
  }
  if (!STRICT.test(text)) {
    throw new VifError('BAD_MAC', `MAC ${shown} is not six colon-separated hex octets`, 'set mac=00:16:3e:xx:xx:xx on the vif', { mac: text });
  }
  const mac = text.toLowerCase();
  if (mac === '00:00:00:00:00:00') {
    throw new VifError('BAD_MAC', `MAC ${mac} is all zeros`, 'set a real unicast mac= on the vif', { mac });
  }
  if (parseInt(mac.slice(0, 2), 16) & 1) {
    throw new VifError('BAD_MAC', `MAC ${mac} is a multicast address`, 'the first octet must be even; use 00:16:3e:xx:xx:xx', { mac });
  }
  return mac;
}
