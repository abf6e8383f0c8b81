// Cold start, tabcast: the script-tag page connects and subscribes once; marks are ms since navigation start.
(async () => {
  const marks = { script: performance.now() };
  try {
    const hub = await Tabcast.connect({ appName: 'bench cold start' });
    marks.connected = performance.now();
    await hub.subscribe({ topic: 'bench-cold-start', events: ['ImagingStudy-open'], subscriberName: 'bench cold' }, () => undefined);
    marks.subscribed = performance.now();
  } catch (error) {
    marks.error = String(error);
  }
  window.benchCold = marks;
})();
