declare module 'encodeurl' {
  /** Encodes the characters a URL may not hold, leaving valid escapes as they are. */
  export default function encodeUrl(url: string): string;
}
