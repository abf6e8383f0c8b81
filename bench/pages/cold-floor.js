// Cold start, floor: the script-tag page starts the raw relay SharedWorker and waits for its hello.
(() => {
  const marks = { script: performance.now() };
  const worker = new SharedWorker('/bench/floor-worker.js', { name: 'bench-floor' });
  worker.port.onmessage = () => {
    marks.connected = performance.now();
    marks.subscribed = marks.connected;
    window.benchCold = marks;
  };
  worker.onerror = () => {
    window.benchCold = { ...marks, error: 'floor worker failed' };
  };
  worker.port.start();
  worker.port.postMessage({ group: 'cold', role: 'sub' });
})();
