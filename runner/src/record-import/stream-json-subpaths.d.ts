// stream-json publishes its components under `exports` subpaths (`stream-json/streamers/stream-array.js` is
// `src/streamers/stream-array.js`), which the project's `node10` module resolution does not read: this names the
// runtime path and borrows the types from the file they sit beside.
declare module 'stream-json/streamers/stream-array.js' {
  import streamArray from 'stream-json/src/streamers/stream-array';
  export = streamArray;
}
