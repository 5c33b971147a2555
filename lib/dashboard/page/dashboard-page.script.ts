// The page's script, served as `<path>/dashboard.js`: browser JavaScript kept as text, so the
// package ships no assets beside its compiled files. It polls `<path>/api/status`, renders the
// tables with DOM calls (names from Redis never become markup), keeps the lag of every
// consumer and group over `chartWindowMs` and draws it as inline SVG. No template literals
// inside (the text is one), nothing loaded from elsewhere.

/** The dashboard's browser script. */
export const DASHBOARD_SCRIPT = String.raw`(function () {
  'use strict';
  var body = document.body;
  var base = body.getAttribute('data-base') || '';
  var readOnly = body.getAttribute('data-read-only') !== 'false';
  var pollMs = Number(body.getAttribute('data-poll-ms')) || 2000;
  var windowMs = Number(body.getAttribute('data-chart-window-ms')) || 600000;
  var SVG = 'http://www.w3.org/2000/svg';
  var COLORS = ['#2f6fde', '#d6452f', '#1e9e5a', '#b7791f', '#8b4fd1', '#0f9bb0', '#d2498c', '#5d6b7d'];
  var main = document.getElementById('streams');
  var state = document.getElementById('state');
  // Samples of the lag per series ('<stream>\u0000consumer\u0000<name>'), newest last.
  var history = [];
  var sections = {};
  var timer = null;
  var inFlight = false;

  function h(tag, attrs, children) {
    var element = document.createElement(tag);
    setAttributes(element, attrs);
    append(element, children);
    return element;
  }

  function s(tag, attrs, children) {
    var element = document.createElementNS(SVG, tag);
    setAttributes(element, attrs);
    append(element, children);
    return element;
  }

  function setAttributes(element, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (name) {
      if (attrs[name] !== undefined && attrs[name] !== null) element.setAttribute(name, String(attrs[name]));
    });
  }

  function append(element, children) {
    if (children === undefined || children === null) return;
    (Array.isArray(children) ? children : [children]).forEach(function (child) {
      if (child === undefined || child === null || child === false) return;
      element.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    });
  }

  function count(value) {
    return Number(value).toLocaleString('en-US');
  }

  function age(ms) {
    if (!ms) return '0';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    if (ms < 3600000) return Math.floor(ms / 60000) + ' min ' + Math.floor((ms % 60000) / 1000) + ' s';
    if (ms < 86400000) return Math.floor(ms / 3600000) + ' h ' + Math.floor((ms % 3600000) / 60000) + ' min';
    return Math.floor(ms / 86400000) + ' d ' + Math.floor((ms % 86400000) / 3600000) + ' h';
  }

  function span(ms) {
    return ms >= 120000 ? Math.round(ms / 60000) + ' min' : Math.round(ms / 1000) + ' s';
  }

  function clock(time) {
    var date = new Date(time);
    return [date.getHours(), date.getMinutes(), date.getSeconds()]
      .map(function (part) { return (part < 10 ? '0' : '') + part; })
      .join(':');
  }

  function seriesKey(stream, kind, name) {
    return stream + '\u0000' + kind + '\u0000' + name;
  }

  function record(status, now) {
    var values = {};
    status.streams.forEach(function (stream) {
      stream.consumers.forEach(function (consumer) {
        values[seriesKey(stream.stream, 'consumer', consumer.name)] = consumer.lag;
      });
      stream.groups.forEach(function (group) {
        values[seriesKey(stream.stream, 'group', group.name)] = group.lag;
      });
    });
    history.push({ time: now, values: values });
    while (history.length > 0 && history[0].time < now - windowMs) history.shift();
  }

  function summary(stream) {
    function item(label, value, bad, attrs) {
      return h('div', null, [h('dt', null, label), h('dd', Object.assign({ class: bad ? 'bad' : null }, attrs), value)]);
    }
    var backlog = stream.delayBacklog;
    return h('dl', { class: 'summary' }, [
      item('length', count(stream.length), false, { 'data-field': 'length', 'data-value': stream.length }),
      item(
        'delay backlog',
        count(backlog.entries) + (backlog.entries > 0 ? ' (oldest ' + age(backlog.oldestAgeMs) + ')' : ''),
        false,
        { 'data-field': 'delay-backlog', 'data-value': backlog.entries },
      ),
      item('dead letters', count(stream.deadLetters), stream.deadLetters > 0, {
        'data-field': 'dead-letters',
        'data-value': stream.deadLetters,
      }),
    ]);
  }

  function consumersTable(stream) {
    if (stream.consumers.length === 0) return null;
    return h('table', { class: 'consumers' }, [
      h('caption', null, 'Consumers'),
      h('thead', null, h('tr', null, [
        h('th', null, 'name'), h('th', null, 'offset'), h('th', { class: 'num' }, 'lag'),
        h('th', { class: 'num' }, 'lag age'), h('th', null, 'state'),
      ])),
      h('tbody', null, stream.consumers.map(function (consumer) {
        return h('tr', {
          'data-consumer': consumer.name,
          'data-lag': consumer.lag,
          'data-lag-ms': consumer.lagMs,
          'data-active': consumer.active,
        }, [
          h('td', null, consumer.name),
          h('td', { class: 'id' }, consumer.offset === null ? 'none yet' : consumer.offset),
          h('td', { class: 'num' }, count(consumer.lag)),
          h('td', { class: 'num' }, age(consumer.lagMs)),
          h('td', { class: consumer.active ? 'active' : 'inactive', title: consumer.owner || '' },
            consumer.active ? 'active' : 'stopped'),
        ]);
      })),
    ]);
  }

  function groupsTable(stream) {
    if (stream.groups.length === 0) return null;
    return h('table', { class: 'groups' }, [
      h('caption', null, 'Consumer groups'),
      h('thead', null, h('tr', null, [
        h('th', null, 'group'), h('th', { class: 'num' }, 'members'), h('th', { class: 'num' }, 'pending'),
        h('th', { class: 'num' }, 'oldest pending'), h('th', { class: 'num' }, 'lag'), h('th', { class: 'num' }, 'lag age'),
        h('th', null, 'last delivered'),
      ])),
      h('tbody', null, stream.groups.map(function (group) {
        return h('tr', { 'data-group': group.name, 'data-lag': group.lag, 'data-pending': group.pending }, [
          h('td', null, group.name),
          h('td', { class: 'num' }, count(group.consumers)),
          h('td', { class: 'num' }, count(group.pending)),
          h('td', { class: 'num' }, age(group.oldestPendingAgeMs)),
          h('td', { class: 'num' }, count(group.lag)),
          h('td', { class: 'num' }, age(group.lagMs)),
          h('td', { class: 'id' }, group.lastDeliveredId),
        ]);
      })),
    ]);
  }

  // A round upper bound for the y axis: 1, 2 or 5 times a power of ten.
  function niceMax(value) {
    if (value <= 5) return 5;
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * power >= value) return steps[i] * power;
    return 10 * power;
  }

  function chart(stream, now) {
    var series = [];
    stream.consumers.forEach(function (consumer) {
      series.push({ key: seriesKey(stream.stream, 'consumer', consumer.name), label: consumer.name });
    });
    stream.groups.forEach(function (group) {
      series.push({ key: seriesKey(stream.stream, 'group', group.name), label: 'group ' + group.name });
    });
    if (series.length === 0) return null;
    var width = 420, height = 150, left = 44, right = 8, top = 8, bottom = 20;
    var plotWidth = width - left - right, plotHeight = height - top - bottom;
    var max = 0;
    history.forEach(function (sample) {
      series.forEach(function (line) {
        var value = sample.values[line.key];
        if (value > max) max = value;
      });
    });
    max = niceMax(max);
    var start = now - windowMs;
    function x(time) { return left + ((time - start) / windowMs) * plotWidth; }
    function y(value) { return top + plotHeight - (value / max) * plotHeight; }
    var children = [
      s('line', { class: 'axis', x1: left, y1: top + plotHeight, x2: width - right, y2: top + plotHeight }),
      s('line', { class: 'axis', x1: left, y1: top, x2: left, y2: top + plotHeight }),
      s('line', { class: 'axis', x1: left, y1: top, x2: width - right, y2: top, 'stroke-dasharray': '3 3' }),
      s('line', { class: 'axis', x1: left, y1: top + plotHeight / 2, x2: width - right, y2: top + plotHeight / 2, 'stroke-dasharray': '3 3' }),
      s('text', { x: left - 4, y: top + 4, 'text-anchor': 'end' }, count(max)),
      s('text', { x: left - 4, y: top + plotHeight, 'text-anchor': 'end' }, '0'),
      s('text', { x: left, y: height - 4 }, '-' + span(windowMs)),
      s('text', { x: width - right, y: height - 4, 'text-anchor': 'end' }, 'now'),
    ];
    series.forEach(function (line, index) {
      var points = [];
      history.forEach(function (sample) {
        var value = sample.values[line.key];
        if (typeof value === 'number') points.push(x(sample.time).toFixed(1) + ',' + y(value).toFixed(1));
      });
      children.push(s('polyline', {
        'data-series': line.label,
        'data-points': points.length,
        points: points.join(' '),
        fill: 'none',
        stroke: COLORS[index % COLORS.length],
        'stroke-width': 2,
        'stroke-linejoin': 'round',
      }));
    });
    var legend = h('div', { class: 'legend' }, series.map(function (line, index) {
      return h('span', null, [
        s('svg', { width: 12, height: 4, 'aria-hidden': 'true' },
          s('rect', { width: 12, height: 4, fill: COLORS[index % COLORS.length] })),
        line.label,
      ]);
    }));
    return h('figure', { class: 'lag-chart' }, [
      s('svg', {
        class: 'chart',
        viewBox: '0 0 ' + width + ' ' + height,
        role: 'img',
        'aria-label': 'Entries behind over the last ' + span(windowMs),
      }, children),
      h('figcaption', null, legend),
    ]);
  }

  function post(path, payload) {
    return fetch(base + path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (result) {
        if (!response.ok) throw new Error(result.message || 'HTTP ' + response.status);
        return result;
      });
    });
  }

  // Actions live outside the re-rendered tables, so a poll never resets what is being typed.
  function actions(name) {
    var notice = h('span', { class: 'notice' });
    function report(promise, describe) {
      notice.className = 'notice';
      notice.textContent = 'working…';
      promise.then(function (result) {
        notice.textContent = describe(result);
        poll();
      }, function (error) {
        notice.className = 'notice error';
        notice.textContent = error.message;
      });
    }
    var replay = h('button', { type: 'button', 'data-action': 'replay' }, 'Replay dead letters');
    replay.addEventListener('click', function () {
      if (!window.confirm('Replay every dead letter of "' + name + '" onto the stream?')) return;
      report(post('/api/replay-dead-letters', { stream: name }), function (result) {
        return 'replayed ' + count(result.replayed ? result.replayed.length : 0);
      });
    });
    var consumer = h('select', { 'data-field': 'rewind-consumer', 'aria-label': 'consumer to rewind' });
    var offset = h('input', {
      'data-field': 'rewind-to',
      placeholder: 'start, end, an entry id or an ISO time',
      'aria-label': 'read from',
    });
    var rewind = h('button', { type: 'button', 'data-action': 'rewind' }, 'Rewind');
    rewind.addEventListener('click', function () {
      var target = consumer.value;
      var to = offset.value.trim();
      if (!target || !to) return;
      if (!window.confirm('Make stopped consumer "' + target + '" of "' + name + '" read from ' + to + ' on?')) return;
      report(post('/api/rewind', { stream: name, consumer: target, to: to }), function (result) {
        return target + ' will read after ' + result.offset;
      });
    });
    var element = h('div', { class: 'actions' }, [replay, h('span', null, 'rewind'), consumer, 'to', offset, rewind, notice]);
    return {
      element: element,
      update: function (stream) {
        replay.disabled = stream.deadLetters === 0;
        var chosen = consumer.value;
        var names = stream.consumers.map(function (item) { return item.name; });
        var current = Array.prototype.map.call(consumer.options, function (option) { return option.value; });
        if (names.join('\u0000') !== current.join('\u0000')) {
          consumer.textContent = '';
          names.forEach(function (itemName) { consumer.appendChild(h('option', { value: itemName }, itemName)); });
          if (names.indexOf(chosen) >= 0) consumer.value = chosen;
        }
        consumer.disabled = rewind.disabled = offset.disabled = names.length === 0;
      },
    };
  }

  function section(name) {
    if (sections[name]) return sections[name];
    var content = h('div', { class: 'content' });
    var element = h('section', { class: 'stream', 'data-stream': name }, [h('h2', null, name), content]);
    var entry = { element: element, content: content, actions: readOnly ? null : actions(name) };
    if (entry.actions) element.appendChild(entry.actions.element);
    sections[name] = entry;
    return entry;
  }

  function render(status, now) {
    var seen = {};
    if (status.streams.length === 0) {
      main.textContent = '';
      main.appendChild(h('p', { class: 'empty' }, 'No streams in this namespace yet.'));
      sections = {};
      return;
    }
    var empty = main.querySelector('.empty');
    if (empty) main.removeChild(empty);
    status.streams.forEach(function (stream) {
      seen[stream.stream] = true;
      var entry = section(stream.stream);
      entry.content.textContent = '';
      append(entry.content, [
        summary(stream),
        h('div', { class: 'columns' }, [
          h('div', null, [consumersTable(stream), groupsTable(stream),
            stream.consumers.length + stream.groups.length === 0 ? h('p', { class: 'empty' }, 'No readers.') : null]),
          chart(stream, now),
        ]),
      ]);
      if (entry.actions) entry.actions.update(stream);
      main.appendChild(entry.element);
    });
    Object.keys(sections).forEach(function (name) {
      if (!seen[name]) {
        main.removeChild(sections[name].element);
        delete sections[name];
      }
    });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, pollMs);
  }

  function poll() {
    if (inFlight) return;
    if (document.hidden) return schedule();
    inFlight = true;
    fetch(base + '/api/status', { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (result) {
          if (!response.ok) throw new Error(result.message || 'HTTP ' + response.status);
          return result;
        });
      })
      .then(function (status) {
        var now = Date.now();
        record(status, now);
        render(status, now);
        state.className = 'state';
        state.textContent = 'updated ' + clock(now) + ' · every ' + (pollMs / 1000) + ' s';
        state.setAttribute('data-updated', String(now));
      }, function (error) {
        state.className = 'state error';
        state.textContent = 'status unavailable: ' + error.message;
      })
      .then(function () {
        inFlight = false;
        schedule();
      });
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) poll();
  });
  poll();
})();
`;
