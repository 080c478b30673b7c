// Domain events (peer.join.success, beam.started.success, …): stored in order, then announced in-process.
// The webhook outbox delivers from the stored rows, so nothing is lost across a restart.
import { EventEmitter } from 'node:events';
import type { Db } from '../store/db.js';
import { fromJson, toJson } from '../store/db.js';
import { insertEvent, listEvents, type EventFilter } from '../store/events.js';
import { rfc3339, uuid } from '../clock.js';

export interface DomainEvent {
  seq: number;
  id: string;
  type: string;
  room_id: string | null;
  data: Record<string, unknown>;
  created_at: string;
}

export class EventLog {
  private readonly emitter = new EventEmitter();

  constructor(private readonly db: Db) {
    this.emitter.setMaxListeners(100);
  }

  async emit(type: string, roomId: string | null, data: Record<string, unknown>): Promise<DomainEvent> {
    const row = { id: uuid(), type, room_id: roomId, data: toJson(data), created_at: rfc3339() };
    const seq = await insertEvent(this.db, row);
    const event: DomainEvent = { ...row, seq, data };
    this.emitter.emit('event', event);
    return event;
  }

  on(listener: (e: DomainEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  async list(filter: EventFilter = {}): Promise<DomainEvent[]> {
    const rows = await listEvents(this.db, filter);
    return rows.map((r) => ({ ...r, seq: Number(r.seq), data: fromJson(r.data, {}) }));
  }
}
