import { formatYuan, type Fen } from '@core/money'
import { formatShanghaiDateTime } from '@core/time'

export const yuan = (fen: Fen): string => `¥${formatYuan(fen)}`

export const shanghaiTime = (isoUtc: string): string => formatShanghaiDateTime(isoUtc)
