// Type-checked against the built declarations only (see tsconfig.json here): an app that imports
// nothing but @drillster-auth/nest must see the `drillster` option on axios requests.
import {
  DRILLSTER_API,
  DrillsterAuthModule,
  type DrillsterAuthService,
} from '@drillster-auth/nest';
import type { AxiosInstance } from 'axios';

export const module = DrillsterAuthModule.forRootAsync({
  isGlobal: true,
  useFactory: () => ({ key: '{}', clientId: 'id', clientSecret: 'secret' }),
});

export async function profile(api: AxiosInstance, service: DrillsterAuthService) {
  const { token, expiresAt }: { token: string; expiresAt: number } =
    await service.getWidgetToken('user');
  const response = await api.get('user', { drillster: { subject: 'user', retry: false } });
  return { token, expiresAt, token2: DRILLSTER_API, data: response.data as unknown };
}
