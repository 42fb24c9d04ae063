import type * as vscode from 'vscode';
import { recordCustomImage, type CustomImageRecord } from '../core/image/customImage';

const KEY = 'flowsession.customImages';

/** The custom base images published from this workspace, offered by "Change Base Image…". */
export class CustomImageStore {
  constructor(private readonly state: vscode.Memento) {}

  list(): CustomImageRecord[] {
    return this.state.get<CustomImageRecord[]>(KEY, []);
  }

  async add(record: CustomImageRecord): Promise<void> {
    await this.state.update(KEY, recordCustomImage(this.list(), record));
  }

  async remove(ref: string): Promise<void> {
    await this.state.update(
      KEY,
      this.list().filter((r) => r.ref !== ref),
    );
  }
}
