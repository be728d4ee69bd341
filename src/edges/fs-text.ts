// Promise forms of reading and writing a small text file, on node:fs's callbacks: node:fs/promises costs every hook its evaluation (bench/).
import { readFile, writeFile } from 'node:fs';

export function readText(file: string): Promise<string> {
  return new Promise((resolve, reject) => readFile(file, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));
}

export function writeText(file: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => writeFile(file, text, (err) => (err ? reject(err) : resolve())));
}
