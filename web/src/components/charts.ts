// ECharts, tree-shaken to what the console draws, registered once.
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { BarChart, PieChart } from 'echarts/charts'
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  TitleComponent,
  DataZoomComponent,
} from 'echarts/components'

use([
  CanvasRenderer,
  BarChart,
  PieChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  TitleComponent,
  DataZoomComponent,
])

export const CATEGORY_COLORS: Record<string, string> = {
  residential: '#4e86c6',
  commercial: '#f2a541',
  large_industry: '#d9534f',
  agricultural: '#5cb85c',
  other: '#9aa5b1',
}
